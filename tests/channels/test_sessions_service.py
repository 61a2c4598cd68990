"""channels/sessions.py and the idle lapse of verification, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels import sessions
from channels.models import WebchatSession
from core.database import utcnow
from engine.conversations import service as conversations_service
from people.debtors import service as debtors_service

LIFETIME = sessions.Lifetime.of(idle_minutes=60, max_hours=24)


async def test_issue_resolve_rotate_end(session: AsyncSession) -> None:
    first = await sessions.issue(session=session, lifetime=LIFETIME)
    bound = await sessions.resolve(session=session, session_id=first, lifetime=LIFETIME)
    rows = (await session.scalars(select(WebchatSession))).all()
    assert first not in {r.token_hash for r in rows} | {r.conversation_key for r in rows}  # only a hash is kept
    assert await sessions.is_current(session=session, bound=bound, session_id=first)

    second = await sessions.rotate(session=session, bound=bound)
    with pytest.raises(sessions.SessionRefused) as old:
        await sessions.resolve(session=session, session_id=first, lifetime=LIFETIME)
    assert old.value.code == sessions.UNKNOWN and old.value.status == 401
    assert await sessions.resolve(session=session, session_id=second, lifetime=LIFETIME) == bound  # same conversation
    assert not await sessions.is_current(session=session, bound=bound, session_id=first)

    assert await sessions.end(session=session, session_id=second) == bound
    with pytest.raises(sessions.SessionRefused):
        await sessions.resolve(session=session, session_id=second, lifetime=LIFETIME)
    assert await sessions.end(session=session, session_id=second) is None


async def test_idle_and_old_sessions_expire_and_are_swept(session: AsyncSession) -> None:
    now = utcnow()
    idle = await sessions.issue(session=session, lifetime=LIFETIME, now=now - timedelta(minutes=61))
    old = await sessions.issue(session=session, lifetime=LIFETIME, now=now - timedelta(hours=25))
    busy = await sessions.issue(session=session, lifetime=LIFETIME, now=now - timedelta(minutes=30))
    with pytest.raises(sessions.SessionRefused) as expired:
        await sessions.resolve(session=session, session_id=idle, lifetime=LIFETIME, now=now)
    assert expired.value.code == sessions.EXPIRED
    bound = await sessions.resolve(session=session, session_id=busy, lifetime=LIFETIME, now=now)  # touched
    row = await session.get(WebchatSession, bound.row_id)
    assert row is not None and row.last_used_at == now
    await sessions.issue(session=session, lifetime=LIFETIME, now=now)  # sweeps what expired
    for gone in (idle, old):
        assert await sessions.address_of(session=session, session_id=gone) is None
    assert await sessions.address_of(session=session, session_id=busy) == bound.conversation_key


async def test_verification_lapses_only_after_the_idle_time(session: AsyncSession) -> None:
    debtor = await debtors_service.get_by_reference(session=session, reference="UK-300552")
    assert debtor is not None
    conversation = await conversations_service.get_or_create(session=session, channel="webchat", external_id="k-1")
    await conversations_service.mark_verified(session=session, conversation_id=conversation.id, debtor=debtor)
    conversation.last_inbound_at = utcnow() - timedelta(minutes=14)
    idle = timedelta(minutes=15)
    assert not await conversations_service.lapse_idle_verification(
        session=session, conversation=conversation, idle=idle
    )
    assert conversation.verified_at is not None and conversation.debtor_id == debtor.id
    conversation.last_inbound_at = utcnow() - timedelta(minutes=16)
    assert await conversations_service.lapse_idle_verification(session=session, conversation=conversation, idle=idle)
    found = await conversations_service.find(session=session, channel="webchat", external_id="k-1")
    assert found is not None and (found.verified_at, found.debtor_id) == (None, None)
    assert not await conversations_service.lapse_idle_verification(session=session, conversation=found, idle=idle)
