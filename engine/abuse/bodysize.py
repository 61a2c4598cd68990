"""Request body size limit for the whole gateway (ASGI middleware, outermost in app/main.py).

A declared Content-Length over the limit is refused before one byte of the body is read; a
chunked or streamed body is counted as it arrives and refused the moment it passes the limit, so
no route ever buffers more than the limit. The refusal is an HTTPException(413): raised while a
route reads its body, FastAPI answers it like any other (its body parser re-raises HTTP errors).
MAX_BODY_BYTES is the default; MAX_BODY_BYTES_BY_PATH raises it where a route needs more (Rasa's
NLG calls carry the whole tracker; Stripe events can be large).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DETAIL = "request_too_large"


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=DETAIL)


def _too_large() -> JSONResponse:
    return JSONResponse({"detail": DETAIL}, status_code=413, headers={"Connection": "close"})


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, by_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.by_path = dict(by_path or {})

    def limit_for(self, path: str) -> int:
        return self.by_path.get(path, self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = next((value for name, value in scope.get("headers", ()) if name.lower() == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _too_large()(scope, receive, send)
            return
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, watching)
        except BodyTooLarge:
            if not started:  # else the route already answered: nothing left to tell the client
                await _too_large()(scope, receive, send)
