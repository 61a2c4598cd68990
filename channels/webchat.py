"""Web chat: a mobile-first page at `/`, a WebSocket at `/webchat/ws` and a REST endpoint.

Both transports run the same pipeline; the session id (kept by the browser) is the
conversation's address on this channel.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, StringConstraints, ValidationError, field_validator

from abuse import guard
from app.database import utcnow
from app.deps import PipelineDep
from app.errors import refusals
from channels.base import Button, Delivery, InboundMessage, OutboundContext
from conversations.pipeline import Pipeline

log = logging.getLogger(__name__)
router = APIRouter(tags=["webchat"])
STATIC = Path(__file__).resolve().parent / "static"
CHANNEL = "webchat"
MAX_TEXT = 10_000

SESSION_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"
SESSION_ID = re.compile(SESSION_PATTERN)
SessionId = Annotated[str, StringConstraints(pattern=SESSION_PATTERN)]


class WebchatIn(BaseModel):
    session_id: SessionId = Field(description="Opaque id the browser keeps for its conversation.")
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="What the debtor typed.")
    locale: str | None = Field(default=None, max_length=35, description="Optional language hint, e.g. the browser's.")

    @field_validator("text")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value


class ButtonOut(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)


class WebchatOut(BaseModel):
    messages: list[MessageOut]


class Connections:
    """Open WebSockets per session id. Also the web chat's OutputChannel: the gateway can push a
    message nobody asked for just now (a payment receipt) to the page that is open."""

    name = CHANNEL

    def __init__(self) -> None:
        self._by_session: dict[str, set[WebSocket]] = {}

    def add(self, session_id: str, websocket: WebSocket) -> None:
        self._by_session.setdefault(session_id, set()).add(websocket)

    def remove(self, session_id: str, websocket: WebSocket) -> None:
        sockets = self._by_session.get(session_id)
        if sockets is not None:
            sockets.discard(websocket)
            if not sockets:
                del self._by_session[session_id]

    async def send_text(
        self, *, to: str, text: str, buttons: list[Button] | None = None, context: OutboundContext
    ) -> list[Delivery]:
        frame = {
            "push": True,
            "messages": [{"text": text, "buttons": [{"title": b.title, "payload": b.payload} for b in buttons or []]}],
        }
        sent = 0
        for websocket in list(self._by_session.get(to, ())):
            try:
                await websocket.send_json(frame)
                sent += 1
            except (RuntimeError, WebSocketDisconnect):
                self.remove(to, websocket)
        # Not open right now: the message is in the transcript and shows when the chat reloads.
        return [Delivery(provider_message_id=None, status="sent" if sent else "queued")]


def parse(body: WebchatIn) -> InboundMessage:
    return InboundMessage(
        channel=CHANNEL, sender=body.session_id, text=body.text, received_at=utcnow(), locale_hint=body.locale
    )


async def respond(pipeline: Pipeline, inbound: InboundMessage) -> WebchatOut:
    replies = await pipeline.handle(
        channel=inbound.channel, external_id=inbound.sender, text=inbound.text, locale_hint=inbound.locale_hint
    )
    return WebchatOut(messages=[MessageOut(text=r.text, buttons=[ButtonOut(**b) for b in r.buttons]) for r in replies])


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/widget.js", include_in_schema=False)
async def widget() -> FileResponse:
    """The embeddable chat widget: `<script src="https://HOST/widget.js" async></script>` on any site."""
    return FileResponse(
        STATIC / "widget.js", media_type="application/javascript", headers={"Cache-Control": "public, max-age=300"}
    )


@router.post("/webchat/messages", response_model=WebchatOut, responses=refusals(429))
async def post_message(body: WebchatIn, pipeline: PipelineDep, request: Request) -> WebchatOut | JSONResponse:
    """Send one debtor message and get the assistant's replies (text plus optional buttons). Too many
    messages: 429 with Retry-After, and `messages` holds a polite text in the debtor's language."""
    if (
        refused := await guard.webchat_rest_refusal(request, session_id=body.session_id, locale=body.locale)
    ) is not None:
        return refused
    return await respond(pipeline, parse(body))


@router.websocket("/webchat/ws")
async def socket(websocket: WebSocket, pipeline: PipelineDep, session_id: str | None = None) -> None:
    """JSON frames in: `{"session_id", "text", "locale"?}`; out: `{"messages": [...]}` or `{"error"}`.
    With `?session_id=` the socket also receives pushed frames `{"push": true, "messages": [...]}`."""
    if await guard.refuse_websocket(websocket):  # too many sockets from this IP: 429 handshake
        return
    await websocket.accept()
    connections: Connections = websocket.app.state.webchat_connections
    registered = session_id if session_id and SESSION_ID.match(session_id) else None
    if registered:
        connections.add(registered, websocket)
    try:
        while True:
            raw = await websocket.receive_text()
            try:
                body = WebchatIn.model_validate_json(raw)
            except ValidationError as exc:
                errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
                await websocket.send_json({"error": "; ".join(errors)})
                continue
            if (
                refused := await guard.webchat_refusal(websocket, session_id=body.session_id, locale=body.locale)
            ) is not None:
                await websocket.send_json(refused)  # {"error": "rate_limited", "retry_after", "messages"}
                continue
            out = await respond(pipeline, parse(body))
            await websocket.send_json(out.model_dump())
    except WebSocketDisconnect:
        return
    finally:
        if registered:
            connections.remove(registered, websocket)
