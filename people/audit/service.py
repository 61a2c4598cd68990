"""Write and read the audit log.

`record()` is the one way in: the middleware (people/audit/middleware.py) calls it for every
state-changing staff request, routes call it for sensitive reads (a GDPR export), jobs for what
they did. Details are cleaned here, so no caller can store a password, a token or what a debtor
or agent wrote, even by mistake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from people.audit.models import AuditEvent
from people.auth.models import StaffUser

# Never stored in `detail`, at any depth: secrets under any key containing these words...
SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|csrf|cookie|authori[sz]ation|api[_-]?key", re.IGNORECASE)
# ...and what debtors and agents wrote (only numbers, e.g. counts, may sit under these keys).
FREE_TEXT_KEYS = frozenset({"text", "body", "message", "messages", "note", "notes", "details", "detail", "reply"})
MAX_STRING = 200
MAX_ITEMS = 50
MAX_DEPTH = 4

Target = tuple[str, object] | str | None


def _hidden(key: str, value: Any) -> bool:
    if SECRET_KEY.search(key):
        return True
    return key.lower() in FREE_TEXT_KEYS and not (isinstance(value, int | float) or value is None)


def clean_detail(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy without secret or free-text keys, strings and lists shortened."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {
            str(k)[:64]: clean_detail(v, depth + 1)
            for k, v in list(value.items())[:MAX_ITEMS]
            if not _hidden(str(k), v)
        }
    if isinstance(value, list | tuple | set):
        return [clean_detail(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_STRING]


def _target(target: Target) -> tuple[str | None, str | None]:
    if target is None:
        return None, None
    if isinstance(target, str):
        kind, _, ident = target.partition(":")
        return kind[:32] or None, ident[:64] or None
    return str(target[0])[:32], None if target[1] is None else str(target[1])[:64]


def _cut(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


async def record(
    *,
    session: AsyncSession,
    action: str,
    actor_id: int | None = None,
    actor_username: str | None = None,
    actor_role: str | None = None,
    target: Target = None,
    detail: Mapping[str, Any] | None = None,
    method: str | None = None,
    path: str | None = None,
    status_code: int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller commits). Given only an actor id, the
    username and role are looked up, so the row stays readable after the account changes."""
    if actor_id is not None and (actor_username is None or actor_role is None):
        user = await session.get(StaffUser, actor_id)
        if user is not None:
            actor_username = actor_username or user.username
            actor_role = actor_role or user.role.value
    target_type, target_id = _target(target)
    event = AuditEvent(
        actor_id=actor_id,
        actor_username=_cut(actor_username, 254),
        actor_role=_cut(actor_role, 16),
        action=action[:100],
        method=_cut(method, 8),
        path=_cut(path, 500),
        target_type=target_type,
        target_id=target_id,
        status_code=status_code,
        ip=_cut(ip, 45),
        user_agent=_cut(user_agent, 300),
        detail=clean_detail(detail) if detail else None,
        created_at=now or utcnow(),
    )
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True)
class Filters:
    actor: str | None = None  # username contains (case-insensitive), or "#<id>"
    action: str | None = None  # exact action, or a prefix ending in "." ("handoff.")
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    target_type: str | None = None
    target_id: str | None = None


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.actor:
        actor = filters.actor.strip()
        if actor.startswith("#") and actor[1:].isdigit():
            conditions.append(AuditEvent.actor_id == int(actor[1:]))
        else:
            pattern = "%" + actor.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(func.lower(AuditEvent.actor_username).like(pattern, escape="\\"))
    if filters.action:
        if filters.action.endswith("."):
            conditions.append(AuditEvent.action.startswith(filters.action, autoescape=True))
        else:
            conditions.append(AuditEvent.action == filters.action)
    if filters.since:
        conditions.append(AuditEvent.created_at >= filters.since)
    if filters.until:
        conditions.append(AuditEvent.created_at < filters.until)
    if filters.target_type:
        conditions.append(AuditEvent.target_type == filters.target_type)
    if filters.target_id:
        conditions.append(AuditEvent.target_id == filters.target_id)
    return conditions


async def search(
    *, session: AsyncSession, filters: Filters, offset: int = 0, limit: int = 50
) -> tuple[list[AuditEvent], int]:
    """Newest first, one page, and how many match in all."""
    conditions = _conditions(filters)
    total = await session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))
    rows = await session.scalars(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc()).offset(offset).limit(limit)
    )
    return list(rows.all()), int(total or 0)


async def actions(*, session: AsyncSession) -> list[str]:
    """Every action recorded so far (for the viewer's filter)."""
    return list((await session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))).all())
