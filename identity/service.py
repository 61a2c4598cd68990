"""Verification with lockout: 3 failures lock verification for 30 minutes.

Failures count per conversation and per claimed reference, so neither a new chat nor a new
reference resets an attacker's budget. The date of birth itself is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import utcnow
from conversations import service as conversations_service
from debtors import service as debtors_service
from debtors.models import Debtor
from identity.models import VerificationAttempt

MAX_FAILURES = 3
LOCK_DURATION = timedelta(minutes=30)


class Outcome(StrEnum):
    VERIFIED = "verified"
    FAILED = "failed"
    LOCKED = "locked"


@dataclass(frozen=True)
class LockState:
    locked_until: datetime | None
    remaining: int


@dataclass(frozen=True)
class VerificationResult:
    outcome: Outcome
    debtor: Debtor | None = None
    remaining: int = 0
    locked_until: datetime | None = None


async def lock_state(
    *, session: AsyncSession, conversation_id: str, reference: str | None = None, now: datetime | None = None
) -> LockState:
    """Replay recent failures in order: each third failure starts a 30-minute lock."""
    now = now or utcnow()
    scope = VerificationAttempt.conversation_id == conversation_id
    if reference:
        scope = or_(scope, VerificationAttempt.claimed_reference == reference)
    attempts = (
        await session.scalars(
            select(VerificationAttempt)
            .where(scope, VerificationAttempt.created_at >= now - timedelta(days=1))
            .order_by(VerificationAttempt.created_at, VerificationAttempt.id)
        )
    ).all()
    count, locked_until = 0, None
    for attempt in attempts:
        if attempt.success:
            count = 0
            continue
        if locked_until and attempt.created_at < locked_until:
            continue
        count += 1
        if count == MAX_FAILURES:
            locked_until, count = attempt.created_at + LOCK_DURATION, 0
    if locked_until and locked_until > now:
        return LockState(locked_until=locked_until, remaining=0)
    return LockState(locked_until=None, remaining=MAX_FAILURES - count)


async def verify(
    *,
    session: AsyncSession,
    conversation_id: str,
    reference: str,
    date_of_birth: date,
    now: datetime | None = None,
) -> VerificationResult:
    """Check reference + date of birth, store the attempt, and link the conversation on success."""
    now = now or utcnow()
    state = await lock_state(session=session, conversation_id=conversation_id, reference=reference, now=now)
    if state.locked_until:
        return VerificationResult(outcome=Outcome.LOCKED, locked_until=state.locked_until)
    debtor = await debtors_service.get_by_reference(session=session, reference=reference)
    success = debtor is not None and debtor.date_of_birth == date_of_birth
    session.add(
        VerificationAttempt(
            conversation_id=conversation_id,
            claimed_reference=reference,
            debtor_id=debtor.id if debtor else None,
            success=success,
            created_at=now,
        )
    )
    await session.flush()
    if success and debtor:
        await conversations_service.mark_verified(
            session=session, conversation_id=conversation_id, debtor=debtor, now=now
        )
        return VerificationResult(outcome=Outcome.VERIFIED, debtor=debtor)
    state = await lock_state(session=session, conversation_id=conversation_id, reference=reference, now=now)
    if state.locked_until:
        return VerificationResult(outcome=Outcome.LOCKED, locked_until=state.locked_until)
    return VerificationResult(outcome=Outcome.FAILED, remaining=state.remaining)
