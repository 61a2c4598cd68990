"""Web chat: a mobile-first page at `/`, a WebSocket at `/webchat/ws` and a REST endpoint.

Every client first gets a session from `POST /webchat/sessions` (channels/sessions.py); both
transports refuse ids the server never issued or that expired (401). The id travels only in
request bodies and WebSocket frames, never in a URL (URLs end up in access logs). The
conversation's address on this channel is the session's server-side key, not the id.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, StringConstraints, ValidationError, field_validator
from starlette.requests import HTTPConnection

from channels import sessions
from channels import widget as widget_script
from channels.config import channel_settings
from channels.push import Connections
from core import templates
from core.errors import Refusal, refusals
from engine.abuse import guard
from engine.conversations import service as conversations_service
from engine.conversations.deps import PipelineDep
from engine.conversations.models import Direction
from engine.conversations.pipeline import Pipeline
from locales.catalog import FALLBACK_LOCALE, resolve_locale
from locales.pages import from_accept_language, labels
from locales.reply import Reply
from money.outreach import service as outreach_service

log = logging.getLogger(__name__)
router = APIRouter(tags=["webchat"])
STATIC = Path(__file__).resolve().parent / "static"
PAGE_ASSETS = {"webchat.js": "text/javascript; charset=utf-8", "webchat.css": "text/css; charset=utf-8"}
CHANNEL = "webchat"
LINK_OPENED = "utter_outreach_link_opened"
MAX_TEXT = 10_000
HELLO_TIMEOUT_SECONDS = 30.0
CLOSE_SESSION_REFUSED = 4401  # application close code: get a new session, then reconnect
CLOSE_NO_HELLO = 1008  # policy violation: the first frame must say which session this socket is for

SESSION_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"
SessionId = Annotated[str, StringConstraints(pattern=SESSION_PATTERN)]
SESSION_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {
        "model": Refusal,
        "description": "session_unknown (never issued, ended or replaced by a rotated id) or session_expired: "
        "create a new one with POST /webchat/sessions",
    }
}
NO_STORE = {"Cache-Control": "no-store"}


class WebchatIn(BaseModel):
    session_id: SessionId = Field(description="The id POST /webchat/sessions issued (never put it in a URL).")
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="What the debtor typed.")
    locale: str | None = Field(default=None, max_length=35, description="Optional language hint, e.g. the browser's.")

    @field_validator("text")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value


class FrameIn(WebchatIn):
    """A WebSocket frame after the hello: the session is the socket's, so the id may be left out;
    when given it must be the socket's own."""

    session_id: SessionId | None = None  # type: ignore[assignment]


class Hello(BaseModel):
    type: str = Field(pattern=r"^hello$")
    session_id: SessionId


class SessionIn(BaseModel):
    session_id: SessionId


class SessionCreate(BaseModel):
    link: str | None = Field(
        default=None,
        max_length=512,
        description="The one-time token of a first-contact link (the page's #t=…): the chat opens with the "
        "case reference filled in. Unknown, used or expired: the chat opens as any other.",
    )


class SessionOut(BaseModel):
    session_id: str = Field(description="256 random bits; keep it in the page, send it in bodies and frames only.")
    messages: list[MessageOut] = Field(
        default_factory=list, description="A greeting when a first-contact link opened the chat."
    )


class ButtonOut(BaseModel):
    title: str
    payload: str


# The REST wire shape of a `Reply` (locales/reply.py): text and buttons, nothing internal. (A
# comment, not a docstring: the OpenAPI schema stays as it was.)
class MessageOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)

    @classmethod
    def of(cls, reply: Reply) -> MessageOut:
        return cls.model_validate(reply.wire())


class WebchatOut(BaseModel):
    messages: list[MessageOut]
    session_id: str | None = Field(
        default=None, description="Only when the id changed (rotated after verification): use this one from now on."
    )


def lifetime_of(pipeline: Pipeline) -> sessions.Lifetime:
    s = channel_settings(pipeline.settings)
    return sessions.Lifetime.of(idle_minutes=s.webchat_session_idle_minutes, max_hours=s.webchat_session_max_hours)


async def _bind(pipeline: Pipeline, session_id: str) -> sessions.Bound:
    async with pipeline.sessionmaker() as db:
        bound = await sessions.resolve(session=db, session_id=session_id, lifetime=lifetime_of(pipeline))
        await db.commit()
    return bound


async def _still_live(pipeline: Pipeline, bound: sessions.Bound) -> None:
    async with pipeline.sessionmaker() as db:
        await sessions.refresh(session=db, bound=bound, lifetime=lifetime_of(pipeline))
        await db.commit()


async def converse(pipeline: Pipeline, bound: sessions.Bound, text: str, locale: str | None) -> WebchatOut:
    """One message of a live session: verification lapses after the idle time (here and in Rasa),
    the pipeline answers, and the id is rotated when this turn verified the person."""
    idle = timedelta(minutes=channel_settings(pipeline.settings).webchat_verified_idle_minutes)
    async with pipeline.sessionmaker() as db:
        conversation = await conversations_service.find(session=db, channel=CHANNEL, external_id=bound.conversation_key)
        lapsed = conversation is not None and await conversations_service.lapse_idle_verification(
            session=db, conversation=conversation, idle=idle
        )
        verified_before = conversation.verified_at if conversation else None
        await db.commit()
    if lapsed and conversation is not None:
        log.info("webchat.verification_lapsed", extra={"conversation_id": conversation.id})
        await pipeline.rasa.forget_verification(sender=conversation.id)
    replies = await pipeline.handle(channel=CHANNEL, external_id=bound.conversation_key, text=text, locale_hint=locale)
    out = WebchatOut(messages=[MessageOut.of(r) for r in replies])
    async with pipeline.sessionmaker() as db:
        conversation = await conversations_service.find(session=db, channel=CHANNEL, external_id=bound.conversation_key)
        if conversation is not None and conversation.verified_at and conversation.verified_at != verified_before:
            out.session_id = await sessions.rotate(session=db, bound=bound)  # no fixation across verification
            await db.commit()
    return out


@router.get("/", include_in_schema=False)
async def page(request: Request, lang: str | None = None) -> HTMLResponse:
    """The chat page in the visitor's language (`?lang=` first, then Accept-Language). Any site
    may frame it: the widget embeds it in an iframe on the creditor's own site."""
    locale = resolve_locale(lang) or from_accept_language(request.headers.get("accept-language")) or FALLBACK_LOCALE
    t = labels(locale, "webchat")
    return templates.page(
        "channels/webchat.html",
        {
            "locale": locale,
            "title": t["title"],
            "t": t,
            "labels": {key: t[key] for key in ("options", "retry", "offline", "reconnecting", "connecting")},
            "styles": ["webchat/static/webchat.css"],
            "scripts": ["webchat/static/webchat.js"],
        },
        frame_ancestors="*",
    )


@router.get("/webchat/static/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    """The page's own script and style (only these two files; nothing from user input)."""
    media_type = PAGE_ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="not_found")
    return FileResponse(
        STATIC / name, media_type=media_type, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    )


@router.get("/widget.js", include_in_schema=False)
async def widget() -> Response:
    """The embeddable chat widget: `<script src="https://HOST/widget.js" async></script>` on any site,
    with its labels in every locale (channels/widget.py)."""
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(widget_script.script(), media_type="application/javascript", headers=headers)


@router.post("/webchat/sessions", status_code=201, response_model=SessionOut, responses=refusals(429))
async def create_session(
    request: Request, pipeline: PipelineDep, body: SessionCreate | None = None
) -> SessionOut | JSONResponse:
    """A new web chat session (the page and the widget call this once and keep the id). With a
    first-contact link's token, the chat opens in the debtor's language with their reference
    filled in (once per link). Too many from one IP: 429 with Retry-After."""
    if (refused := await guard.webchat_session_refusal(request)) is not None:
        return refused
    opened: outreach_service.Opened | None = None
    async with pipeline.sessionmaker() as db:
        session_id = await sessions.issue(session=db, lifetime=lifetime_of(pipeline))
        if body is not None and body.link:
            bound = await sessions.resolve(session=db, session_id=session_id, lifetime=lifetime_of(pipeline))
            opened = await outreach_service.open_link(
                session=db, token=body.link, conversation_key=bound.conversation_key
            )
        await db.commit()
    messages: list[dict[str, Any]] = []
    if opened is not None:
        messages = [await _link_opened(pipeline, opened)]
    return JSONResponse({"session_id": session_id, "messages": messages}, status_code=201, headers=NO_STORE)


async def _link_opened(pipeline: Pipeline, opened: outreach_service.Opened) -> dict[str, Any]:
    """Fill in the reference in Rasa's tracker (verification then asks only the date of birth),
    and greet in the debtor's language (stored in the transcript)."""
    if not await pipeline.rasa.prefill(sender=opened.conversation_id, slots={"reference": opened.reference}):
        log.warning("webchat.link_prefill_failed")  # the chat still opens; the reference is asked
    await pipeline.catalog.refresh()
    reply = pipeline.catalog.render(LINK_OPENED, opened.locale)
    async with pipeline.sessionmaker() as db:
        conversation = await conversations_service.get(session=db, conversation_id=opened.conversation_id)
        if conversation is not None:
            await conversations_service.add_message(
                session=db, conversation=conversation, direction=Direction.OUTBOUND, text=reply.text,
                locale=opened.locale,
            )  # fmt: skip
            await db.commit()
    return MessageOut.of(reply).model_dump()


@router.post("/webchat/sessions/end", status_code=204, response_class=Response)
async def end_session(body: SessionIn, request: Request, pipeline: PipelineDep) -> Response:
    """ "End chat": the id is refused from now on and the session's open sockets are closed
    (204 also when it had already ended or expired: the browser forgets it either way)."""
    async with pipeline.sessionmaker() as db:
        ended = await sessions.end(session=db, session_id=body.session_id)
        await db.commit()
    if ended is not None:
        connections: Connections = request.app.state.webchat_connections
        await connections.close_all(ended.conversation_key, code=CLOSE_SESSION_REFUSED)
    return Response(status_code=204)


@router.post(
    "/webchat/messages",
    response_model=WebchatOut,
    response_model_exclude_none=True,
    responses={**refusals(429), **SESSION_REFUSED},
)
async def post_message(body: WebchatIn, pipeline: PipelineDep, request: Request) -> WebchatOut | JSONResponse:
    """Send one debtor message and get the assistant's replies (text plus optional buttons), and
    `session_id` when the id was rotated. An id the server did not issue or that expired: 401.
    Too many messages: 429 with Retry-After, and `messages` holds a polite text in the debtor's language."""
    try:
        bound = await _bind(pipeline, body.session_id)
    except sessions.SessionRefused as exc:
        return JSONResponse({"detail": exc.code}, status_code=401)
    if (
        refused := await guard.webchat_rest_refusal(request, session_id=bound.conversation_key, locale=body.locale)
    ) is not None:
        return refused
    return await converse(pipeline, bound, body.text, body.locale)


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


async def _hello(websocket: WebSocket, pipeline: Pipeline) -> sessions.Bound | None:
    """The first frame names the socket's session: `{"type": "hello", "session_id"}`. Answered
    `{"type": "ready"}`, or an error and a close (4401: get a new session; 1008: no hello)."""
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_SECONDS)
        hello = Hello.model_validate_json(raw)
    except (TimeoutError, ValidationError) as exc:
        error = _errors(exc) if isinstance(exc, ValidationError) else "timeout"
        await websocket.send_json({"error": "hello_required", "detail": error})
        await websocket.close(code=CLOSE_NO_HELLO)
        return None
    try:
        bound = await _bind(pipeline, hello.session_id)
    except sessions.SessionRefused as exc:
        await websocket.send_json({"error": exc.code})
        await websocket.close(code=CLOSE_SESSION_REFUSED)
        return None
    await websocket.send_json({"type": "ready"})
    return bound


async def _frame(websocket: WebSocket, pipeline: Pipeline, bound: sessions.Bound, raw: str) -> dict[str, Any] | None:
    """The answer to one frame, or None when the session is gone (the socket then closes)."""
    try:
        body = FrameIn.model_validate_json(raw)
    except ValidationError as exc:
        return {"error": _errors(exc)}
    if body.session_id is not None:
        async with pipeline.sessionmaker() as db:
            if not await sessions.is_current(session=db, bound=bound, session_id=body.session_id):
                return {"error": "session_mismatch"}  # a socket writes only for its own session
    try:
        await _still_live(pipeline, bound)
    except sessions.SessionRefused as exc:
        await websocket.send_json({"error": exc.code})
        return None
    conn: HTTPConnection = websocket
    if (
        refused := await guard.webchat_refusal(conn, session_id=bound.conversation_key, locale=body.locale)
    ) is not None:
        return refused  # {"error": "rate_limited", "retry_after", "messages"}
    out = await converse(pipeline, bound, body.text, body.locale)
    return out.model_dump(exclude_none=True)


@router.websocket("/webchat/ws")
async def socket(websocket: WebSocket, pipeline: PipelineDep) -> None:
    """First frame `{"type": "hello", "session_id"}` (answered `{"type": "ready"}`); then frames
    `{"text", "locale"?, "session_id"?}` in, `{"messages": [...], "session_id"?}` or `{"error"}` out,
    and pushed frames `{"push": true, "messages": [...]}` for this session only."""
    if await guard.refuse_websocket(websocket):  # too many sockets from this IP: 429 handshake
        return
    await websocket.accept()
    connections: Connections = websocket.app.state.webchat_connections
    try:
        bound = await _hello(websocket, pipeline)
        if bound is None:
            return
        connections.add(bound.conversation_key, websocket)
        try:
            while True:
                answer = await _frame(websocket, pipeline, bound, await websocket.receive_text())
                if answer is None:
                    await websocket.close(code=CLOSE_SESSION_REFUSED)
                    return
                await websocket.send_json(answer)
        finally:
            connections.remove(bound.conversation_key, websocket)
    except (WebSocketDisconnect, RuntimeError):  # gone, or closed by "end chat" meanwhile
        return
