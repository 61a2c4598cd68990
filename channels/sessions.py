"""Web chat sessions issued by the gateway: the only ids `POST /webchat/messages` and the
WebSocket accept. Before, any string the browser chose was a conversation, forever.

- An id is 256 random bits (`secrets.token_urlsafe(32)`); only its sha256 is stored, so a
  database read or backup gives no live id (the id is unguessable, so no slow hash is needed).
- It expires after `webchat_session_idle_minutes` without use and `webchat_session_max_hours`
  after it was issued; ending the chat deletes it. Expired rows are swept when sessions are issued.
- The conversation's address is a server-side key (`conversation_key`), not the id: rotating the
  id (after verification) keeps the conversation, and the old id stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import WebchatSession
from core.database import utcnow
from core.errors import RequestRefused

UNKNOWN = "session_unknown"
EXPIRED = "session_expired"
# Touching last_used_at on every message would add a write per message; this is precise enough.
TOUCH_EVERY = timedelta(seconds=5)


class SessionRefused(RequestRefused):
    """401: an id the server never issued, that was ended, rotated away, or expired."""

    default_status = 401


@dataclass(frozen=True)
class Lifetime:
    idle: timedelta
    max_age: timedelta

    @classmethod
    def of(cls, *, idle_minutes: float, max_hours: float) -> Lifetime:
        return cls(idle=timedelta(minutes=idle_minutes), max_age=timedelta(hours=max_hours))

    def expired(self, row: WebchatSession, now: datetime) -> bool:
        return now - row.last_used_at >= self.idle or now - row.created_at >= self.max_age


@dataclass(frozen=True)
class Bound:
    """A valid session: its row id and the conversation's address on the web chat channel."""

    row_id: int
    conversation_key: str


def new_id() -> str:
    return secrets.token_urlsafe(32)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def issue(*, session: AsyncSession, lifetime: Lifetime, now: datetime | None = None) -> str:
    """A new session (and conversation address); the id is returned once and never stored."""
    now = now or utcnow()
    await session.execute(
        delete(WebchatSession).where(
            or_(WebchatSession.last_used_at <= now - lifetime.idle, WebchatSession.created_at <= now - lifetime.max_age)
        )
    )
    session_id = new_id()
    session.add(
        WebchatSession(
            token_hash=digest(session_id), conversation_key=secrets.token_hex(16), created_at=now, last_used_at=now
        )
    )
    await session.flush()
    return session_id


async def _row(session: AsyncSession, session_id: str) -> WebchatSession | None:
    return await session.scalar(select(WebchatSession).where(WebchatSession.token_hash == digest(session_id)))


def _check(row: WebchatSession | None, lifetime: Lifetime, now: datetime) -> WebchatSession:
    if row is None:
        raise SessionRefused(UNKNOWN)
    if lifetime.expired(row, now):
        raise SessionRefused(EXPIRED)
    if now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return row


async def resolve(*, session: AsyncSession, session_id: str, lifetime: Lifetime, now: datetime | None = None) -> Bound:
    """The live session with this id (touched), or SessionRefused (401)."""
    row = _check(await _row(session, session_id), lifetime, now or utcnow())
    return Bound(row_id=row.id, conversation_key=row.conversation_key)


async def refresh(*, session: AsyncSession, bound: Bound, lifetime: Lifetime, now: datetime | None = None) -> Bound:
    """A socket's session again (it may have ended or expired since the socket said hello)."""
    _check(await session.get(WebchatSession, bound.row_id), lifetime, now or utcnow())
    return bound


async def is_current(*, session: AsyncSession, bound: Bound, session_id: str) -> bool:
    """Whether `session_id` is this session's id now (a socket refuses frames for any other)."""
    row = await session.get(WebchatSession, bound.row_id)
    return row is not None and secrets.compare_digest(row.token_hash, digest(session_id))


async def rotate(*, session: AsyncSession, bound: Bound, now: datetime | None = None) -> str:
    """A fresh id for the same session and conversation; the old id is refused from now on."""
    row = await session.get(WebchatSession, bound.row_id)
    if row is None:
        raise SessionRefused(UNKNOWN)
    session_id = new_id()
    row.token_hash, row.rotated_at = digest(session_id), now or utcnow()
    await session.flush()
    return session_id


async def end(*, session: AsyncSession, session_id: str) -> Bound | None:
    """Forget a session ("end chat"): its id is refused from now on. None when it was not live."""
    row = await _row(session, session_id)
    if row is None:
        return None
    bound = Bound(row_id=row.id, conversation_key=row.conversation_key)
    await session.delete(row)
    await session.flush()
    return bound


async def address_of(*, session: AsyncSession, session_id: str) -> str | None:
    """The conversation address behind an id, without checking or touching it (tools, audits)."""
    row = await _row(session, session_id)
    return row.conversation_key if row else None


async def end_for(*, session: AsyncSession, conversation_keys: Collection[str]) -> int:
    """End every live session of these web chat conversations (erasure: an id the browser still
    holds must not reopen the erased person's chat under its old address). How many ended."""
    if not conversation_keys:
        return 0
    result = await session.execute(
        delete(WebchatSession).where(WebchatSession.conversation_key.in_(sorted(conversation_keys)))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
