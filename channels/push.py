"""Open web chat sockets per session (its conversation key): the web chat's OutputChannel. The
gateway pushes a message nobody asked for just now (a payment receipt, an agent's reply) to the
sockets of that one session, never to another's."""

from __future__ import annotations

import contextlib

from fastapi import WebSocket, WebSocketDisconnect

from channels.base import Delivery, OutboundContext
from locales.reply import Reply

CHANNEL = "webchat"


class Connections:
    name = CHANNEL

    def __init__(self) -> None:
        self._by_session: dict[str, set[WebSocket]] = {}

    def add(self, conversation_key: str, websocket: WebSocket) -> None:
        self._by_session.setdefault(conversation_key, set()).add(websocket)

    def remove(self, conversation_key: str, websocket: WebSocket) -> None:
        sockets = self._by_session.get(conversation_key)
        if sockets is not None:
            sockets.discard(websocket)
            if not sockets:
                del self._by_session[conversation_key]

    async def close_all(self, conversation_key: str, *, code: int) -> None:
        """The session ended: its open sockets close (the page then forgets the id)."""
        for websocket in list(self._by_session.pop(conversation_key, ())):
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=code)

    async def send(self, *, to: str, reply: Reply, context: OutboundContext) -> list[Delivery]:
        frame = {"push": True, "messages": [reply.wire()]}
        sent = 0
        for websocket in list(self._by_session.get(to, ())):
            try:
                await websocket.send_json(frame)
                sent += 1
            except (RuntimeError, WebSocketDisconnect):
                self.remove(to, websocket)
        # Not open right now: the message is in the transcript and shows when the chat reloads.
        return [Delivery(provider_message_id=None, status="sent" if sent else "queued")]
