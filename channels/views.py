"""Provider webhooks: authenticity checked at the edge, the message committed to the inbox
before the provider gets its 200, then a worker answers (durable, exactly-once, in order)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import Response

from channels import telegram as telegram_channel
from channels import twilio as twilio_channel
from channels.base import InboundMessage
from channels.config import ChannelSettingsDep
from core import metrics
from core.database import retry_when_locked, utcnow
from core.deps import SessionDep
from core.errors import refusals
from engine.abuse import guard
from engine.conversations import service as conversations_service
from engine.inbox import service as inbox_service

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_FORM_BYTES = 64 * 1024
# What the Twilio message webhooks answer: empty TwiML (we reply later, through the API), or a
# refusal: 404 not configured, 400 unreadable, 413 too large, 429 over a limit (engine/abuse/guard.py).
TWIML_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Acknowledged: empty TwiML", "content": {"application/xml": {"schema": {"type": "string"}}}},
    **refusals(400, 404, 413, 429),
    403: {"description": "Invalid or missing X-Twilio-Signature"},
}


async def _twilio_form(request: Request, settings: ChannelSettingsDep) -> dict[str, str]:
    """The form, if X-Twilio-Signature matches it for our public URL (works behind a proxy)."""
    if settings.twilio_auth_token is None:
        raise HTTPException(status_code=404, detail="Twilio is not configured")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="request too large")
    form = {k: str(v) for k, v in (await request.form()).items()}
    url = (
        settings.public_base_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    )
    if not twilio_channel.is_valid_request(
        auth_token=settings.twilio_auth_token.get_secret_value(),
        url=url,
        params=form,
        signature=request.headers.get("x-twilio-signature"),
    ):
        raise HTTPException(status_code=403, detail="invalid Twilio signature")
    return form


async def _receive_twilio(
    channel: str, request: Request, settings: ChannelSettingsDep, background: BackgroundTasks
) -> Response:
    form = await _twilio_form(request, settings)
    try:
        message = twilio_channel.parse(channel=channel, form=form, received_at=utcnow())  # type: ignore[arg-type]
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    timing = await _store(request, message, background)
    return Response(content=EMPTY_TWIML, media_type="application/xml", headers={"Server-Timing": timing})


async def _store(request: Request, message: InboundMessage, background: BackgroundTasks) -> str:
    """Commit the message to the inbox (durable before we acknowledge), then hand it to the worker
    after the response has gone: the queue's own I/O is not part of the acknowledgement, and an
    enqueue lost to a crash is picked up by the worker's sweep (the event is pending in the inbox).
    Returns a Server-Timing value (how long the durable write took) for the benchmark."""
    await guard.check_sender(request, message)  # 429 + Retry-After over RATE_LIMIT_SENDER (engine/abuse/guard.py)

    async def once() -> str | None:
        async with request.app.state.sessionmaker() as session:
            event = await inbox_service.accept(session=session, message=message)
            await session.commit()
            return event.conversation_id if event is not None else None

    began = time.perf_counter()
    conversation_id = await retry_when_locked(once)
    if conversation_id is not None:
        enqueue: inbox_service.Enqueue = request.app.state.enqueue  # the gateway's queue (app/worker.py)
        background.add_task(enqueue, conversation_id)
    return f"inbox;dur={(time.perf_counter() - began) * 1000:.1f}"


@router.post("/channels/twilio/sms", response_class=Response, responses=TWIML_RESPONSES)
async def twilio_sms(request: Request, settings: ChannelSettingsDep, background: BackgroundTasks) -> Response:
    with metrics.webhook_ack("twilio_sms"):
        return await _receive_twilio("sms", request, settings, background)


@router.post("/channels/twilio/whatsapp", response_class=Response, responses=TWIML_RESPONSES)
async def twilio_whatsapp(request: Request, settings: ChannelSettingsDep, background: BackgroundTasks) -> Response:
    with metrics.webhook_ack("twilio_whatsapp"):
        return await _receive_twilio("whatsapp", request, settings, background)


@router.post(
    "/channels/twilio/status",
    status_code=204,
    response_class=Response,
    responses={**refusals(400, 404, 413, 429), 403: {"description": "Invalid or missing X-Twilio-Signature"}},
)
async def twilio_status(request: Request, session: SessionDep, settings: ChannelSettingsDep) -> Response:
    """Delivery receipts: delivered / undelivered / failed recorded on the transcript message."""
    with metrics.webhook_ack("twilio_status"):
        return await _receipt(request, session, settings)


async def _receipt(request: Request, session: SessionDep, settings: ChannelSettingsDep) -> Response:
    form = await _twilio_form(request, settings)
    try:
        sid, status, error = twilio_channel.parse_status(form)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    detail = f"{status}:{error}" if error else status
    await conversations_service.record_delivery(session=session, provider_message_id=sid, status=detail)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/channels/telegram/webhook",
    responses={**refusals(400, 404, 413, 429), 403: {"description": "Missing or wrong secret token"}},
)
async def telegram_webhook(
    request: Request, response: Response, settings: ChannelSettingsDep, background: BackgroundTasks
) -> dict[str, bool]:
    with metrics.webhook_ack("telegram"):
        return await _telegram_update(request, response, settings, background)


async def _telegram_update(
    request: Request, response: Response, settings: ChannelSettingsDep, background: BackgroundTasks
) -> dict[str, bool]:
    if settings.telegram_bot_token is None or settings.telegram_webhook_secret is None:
        raise HTTPException(status_code=404, detail="Telegram is not configured")
    if not telegram_channel.secret_ok(
        request.headers.get("x-telegram-bot-api-secret-token"), settings.telegram_webhook_secret.get_secret_value()
    ):
        raise HTTPException(status_code=403, detail="invalid secret token")
    try:
        update_json = await request.json()
    except ValueError as exc:
        raise HTTPException(status_code=400, detail="body is not JSON") from exc
    if not isinstance(update_json, dict):
        raise HTTPException(status_code=400, detail="an update is a JSON object")
    output = request.app.state.pipeline.outputs.get("telegram")
    message = telegram_channel.parse(update_json, bot=output.bot, received_at=utcnow()) if output else None
    if message is None:
        return {"ok": True}  # not something we answer (stickers, edits, joins): acknowledged
    response.headers["Server-Timing"] = await _store(request, message, background)
    if (query := telegram_channel.callback_query_id(update_json)) and output is not None:
        background.add_task(output.answer_callback, query)  # stops the button's spinner; not part of the ack
    return {"ok": True}
