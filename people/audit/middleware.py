"""ASGI middleware writing the audit log for the staff API.

Recorded: every state-changing request (POST/PUT/PATCH/DELETE) under /agent/api — logins (the
username tried, also when it fails), logouts, take-overs, replies, admin changes — every read of
a conversation or debtor (routes with audit.reads.AUDITED_READ: written before the response
starts, a 503 instead of the data when it cannot be), and every request under /agent refused
with 401/403 (except the console's own "am I logged in?" checks).

Who: the staff member behind the session cookie, resolved before the request runs (a logout or a
deactivation ends that session), in the middleware's own short session that is closed before the
request's own opens (on SQLite a read takes the write lock). What: "<package>.<endpoint>" of the
matched route (e.g. "handoff.take"), its first `*_id` path parameter as the target, the status
code, IP and user agent, and from a JSON body only a few harmless keys (SAFE_BODY_KEYS): never a
password or a text. A route may add to it: `request.state.audit = {"target": ("debtor", 5),
"detail": {...}}`. The row is written after the response, in its own session; a failure to write
it is logged and never breaks the request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.database import retry_when_locked
from people.audit import reads, service
from people.auth import service as auth_service
from people.auth.deps import STAFF_COOKIE

log = logging.getLogger(__name__)
# The bounded contexts that hold features (README: the layout); an action names the feature.
CONTEXTS = frozenset({"engine", "people", "money", "backoffice", "app", "core"})


def feature_of(module: str) -> str:
    """`people.auth.views` -> `auth`, `handoff.views` -> `handoff`: actions name the feature, so they
    stay the same wherever the feature's package sits (stored rows and filters depend on them)."""
    parts = module.split(".")
    return parts[1] if parts[0] in CONTEXTS and len(parts) > 2 else parts[0]


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/agent/api"
STAFF_PREFIX = "/agent"
# Refusals here are the normal "not logged in yet" answers of the console pages, not attempts.
QUIET_REFUSALS = frozenset({"/agent", "/agent/", "/agent/api/me"})
LOGIN_PATH = "/agent/api/login"
MAX_BODY_BYTES = 16_384
UNAVAILABLE_BODY = json.dumps({"detail": "audit_unavailable"}).encode()
UNAVAILABLE_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(UNAVAILABLE_BODY)).encode())]
SAFE_BODY_KEYS = frozenset(
    {"username", "role", "display_name", "outcome", "status", "locale", "tone", "key", "intent", "name",
     "message_key", "variant", "winner", "segment", "enabled"}
)  # fmt: skip


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(STAFF_PREFIX):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        writing = method in WRITE_METHODS and path.startswith(API_PREFIX)
        # A login's actor is the account logging in (known after it), never an older cookie's.
        actor = await self._actor(scope) if writing and path != LOGIN_PATH else None
        body = bytearray()
        status: list[int] = []

        async def tee_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) <= MAX_BODY_BYTES:
                body.extend(message.get("body", b"")[: MAX_BODY_BYTES + 1 - len(body)])
            return message

        read_recorded: list[bool] = []

        async def watch_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
                reader = scope["state"].get(reads.STATE_KEY)
                if reader and not writing:
                    own = scope["state"].get(reads.SESSION_KEY)
                    read_recorded.append(await self._record(scope, status[0], reader, b"", session=own))
                    if not read_recorded[0]:  # no audit row, no data
                        await send({"type": "http.response.start", "status": 503, "headers": UNAVAILABLE_HEADERS})
                        await send({"type": "http.response.body", "body": UNAVAILABLE_BODY})
                        return
            if read_recorded and not read_recorded[0]:
                return  # the refused read's own body is dropped
            await send(message)

        scope.setdefault("state", {})
        try:
            await self.app(scope, tee_receive if writing else receive, watch_send)
        finally:
            code = status[0] if status else 500
            refused = code in (401, 403) and path not in QUIET_REFUSALS
            if (writing or refused) and not read_recorded:
                if not writing:
                    actor = await self._actor(scope)
                await self._record(scope, code, actor, bytes(body) if writing else b"")

    @staticmethod
    def _sessionmaker(scope: Scope) -> async_sessionmaker[AsyncSession] | None:
        app = scope.get("app")
        return getattr(getattr(app, "state", None), "sessionmaker", None)

    async def _actor(self, scope: Scope) -> dict[str, Any] | None:
        """The staff member behind the cookie, if the session is valid (a short read of its own)."""
        token = HTTPConnection(scope).cookies.get(STAFF_COOKIE)
        maker = self._sessionmaker(scope)
        if not token or maker is None:
            return None
        try:
            async with maker() as session:
                found = await auth_service.session_user(session=session, token=token)
        except Exception:
            log.exception("audit.actor_lookup_failed")
            return None
        if found is None:
            return None
        user = found[0]
        return {"id": user.id, "username": user.username, "role": user.role.value}

    async def _record(
        self, scope: Scope, code: int, actor: dict[str, Any] | None, body: bytes, session: AsyncSession | None = None
    ) -> bool:
        """Write the row (in `session` when given, else in a short one of its own); False when it
        could not be written (logged, never raised)."""
        maker = self._sessionmaker(scope)
        if maker is None:
            return False
        try:
            fields = _describe(scope, code, actor, body)
            if session is not None:
                await service.record(session=session, **fields)
                await session.commit()
                return True
            if fields["action"] == "auth.login" and code == 200 and actor is None:
                fields.update(await _logged_in(maker, fields["detail"].get("username")))

            async def write() -> None:
                async with maker() as session:
                    await service.record(session=session, **fields)
                    await session.commit()

            await retry_when_locked(write)
        except Exception:
            log.exception("audit.record_failed", extra={"path": scope.get("path")})
            return False
        return True


def _json_fields(body: bytes) -> dict[str, Any]:
    if not body or len(body) > MAX_BODY_BYTES:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in SAFE_BODY_KEYS and isinstance(v, str | int | float | bool)}


def _describe(scope: Scope, code: int, actor: dict[str, Any] | None, body: bytes) -> dict[str, Any]:
    endpoint = getattr(scope.get("route"), "endpoint", None)
    if endpoint is not None:
        action = f"{feature_of(endpoint.__module__)}.{endpoint.__name__}"
    else:
        action = f"{scope['method']} {scope['path']}"
    params = scope.get("path_params") or {}
    target: tuple[str, object] | None = next(
        ((name.removesuffix("_id"), value) for name, value in params.items() if name.endswith("_id")), None
    )
    detail: dict[str, Any] = _json_fields(body)
    extra = scope.get("state", {}).get("audit")
    if isinstance(extra, dict):
        target = extra.get("target", target)
        action = str(extra.get("action") or action)
        detail.update(extra.get("detail") or {})
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    client = scope.get("client")
    username = actor["username"] if actor else None
    if scope["path"] == LOGIN_PATH and actor is None and isinstance(detail.get("username"), str):
        username = detail["username"].strip().lower()  # the name tried (a failed login has no actor)
    return {
        "action": action,
        "actor_id": actor["id"] if actor else None,
        "actor_username": username,
        "actor_role": actor["role"] if actor else None,
        "target": target,
        "detail": detail,
        "method": scope["method"],
        "path": scope["path"],
        "status_code": code,
        "ip": client[0] if client else None,
        "user_agent": headers.get("user-agent"),
    }


async def _logged_in(maker: async_sessionmaker[AsyncSession], username: object) -> dict[str, Any]:
    """A successful login: the actor is the account that just logged in."""
    if not isinstance(username, str):
        return {}
    async with maker() as session:
        user = await auth_service.find_user(session=session, username=username)
    return {"actor_id": user.id, "actor_username": user.username, "actor_role": user.role.value} if user else {}
