"""Verification with lockout: reference + date of birth, never the date itself stored.

Failures are counted per claimed reference (across every conversation and channel) and per
conversation, as separate counters (people/identity/lockout.py). What a person is told comes from their
own conversation's counter only: an attempt on a reference that others' failures locked is
refused without checking the details and answered exactly like wrong details (and counted as
this conversation's failure), so nobody learns of failures someone else made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations import service as conversations_service
from people.debtors import service as debtors_service
from people.debtors.models import Debtor
from people.debtors.references import reference_key
from people.identity import lockout, references
from people.identity.lockout import LOCK_STEPS, MAX_FAILURES, Counter
from people.identity.models import VerificationAttempt

__all__ = [
    "LOCK_STEPS", "MAX_FAILURES", "LockState", "Outcome", "VerificationResult", "lock_state", "read_reference", "verify",
]  # fmt: skip


class Outcome(StrEnum):
    VERIFIED = "verified"
    FAILED = "failed"
    LOCKED = "locked"  # this conversation's own failures locked its verification


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


async def conversation_counter(*, session: AsyncSession, conversation_id: str, now: datetime) -> Counter:
    attempts = await session.scalars(
        select(VerificationAttempt)
        .where(
            VerificationAttempt.conversation_id == conversation_id,
            VerificationAttempt.created_at >= now - lockout.LOOKBACK,
        )
        .order_by(VerificationAttempt.created_at, VerificationAttempt.id)
    )
    return lockout.replay(attempts, now=now, per_conversation=True)


async def reference_counter(*, session: AsyncSession, reference: str, now: datetime) -> Counter:
    """Attempts refused while a lock was on are left out: they checked nothing (and a flood of
    them from many chats must not make this query long: ix_verification_attempts_reference)."""
    attempts = await session.scalars(
        select(VerificationAttempt)
        .where(
            VerificationAttempt.claimed_reference == reference,
            VerificationAttempt.refused.is_(False),
            VerificationAttempt.created_at >= now - lockout.LOOKBACK,
        )
        .order_by(VerificationAttempt.created_at, VerificationAttempt.id)
    )
    return lockout.replay(attempts, now=now, per_conversation=False)


async def lock_state(*, session: AsyncSession, conversation_id: str, now: datetime | None = None) -> LockState:
    """The conversation's own lock and attempts left: all a person may be told."""
    counter = await conversation_counter(session=session, conversation_id=conversation_id, now=now or utcnow())
    return LockState(locked_until=counter.locked_until, remaining=counter.remaining)


async def _serialize(session: AsyncSession, *keys: str) -> None:
    """On PostgreSQL, one verification at a time per conversation and per reference (taken in
    that order, so never a deadlock): parallel guesses from many chats cannot all slip in before
    the lock. SQLite transactions are serialized already (BEGIN IMMEDIATE, app/database.py)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


async def read_reference(*, session: AsyncSession, texts: Sequence[str]) -> str | None:
    """The reference key in what was typed (the whole message first, then a slot's value): the
    longest candidate that names a case or a debt, else the text's likely reference, else None
    (nothing there can be a reference). Which one is chosen changes nothing the person is told."""
    found = [c for text in texts for c in references.candidates(text)]
    known = await debtors_service.known_reference_keys(session=session, keys=[c.key for c in found])
    if best := next((c.key for c in sorted(found, key=lambda c: -len(c.key)) if c.key in known), None):
        return best
    return next((key for text in texts if (key := references.fallback(text))), None)


async def verify(
    *,
    session: AsyncSession,
    conversation_id: str,
    reference: str,
    date_of_birth: date,
    now: datetime | None = None,
) -> VerificationResult:
    """Check reference + date of birth, store the attempt, and link the conversation on success.

    The reference is compared by its key (any spelling): it may be a case reference or a debt's
    creditor reference; when creditors' references collide, the date of birth must single out
    one debtor. Attempts and the per-reference counter are kept by key."""
    now = now or utcnow()
    reference = reference_key(reference)[: references.MAX_KEY]
    await _serialize(session, f"verify:conversation:{conversation_id}", f"verify:reference:{reference}")
    own = await conversation_counter(session=session, conversation_id=conversation_id, now=now)
    if own.locked_until:
        return VerificationResult(outcome=Outcome.LOCKED, locked_until=own.locked_until)
    refused = (await reference_counter(session=session, reference=reference, now=now)).locked_until is not None
    named = await debtors_service.by_reference_key(session=session, key=reference) if reference else []
    born = [d for d in named if d.date_of_birth == date_of_birth]
    debtor = born[0] if len(born) == 1 else None
    success = not refused and debtor is not None
    session.add(
        VerificationAttempt(
            conversation_id=conversation_id,
            claimed_reference=reference,
            debtor_id=debtor.id if debtor else (named[0].id if len(named) == 1 else None),
            success=success,
            refused=refused,
            created_at=now,
        )
    )
    await session.flush()
    if success and debtor:
        await conversations_service.mark_verified(
            session=session, conversation_id=conversation_id, debtor=debtor, now=now
        )
        return VerificationResult(outcome=Outcome.VERIFIED, debtor=debtor)
    own = await conversation_counter(session=session, conversation_id=conversation_id, now=now)
    if own.locked_until:
        return VerificationResult(outcome=Outcome.LOCKED, locked_until=own.locked_until)
    return VerificationResult(outcome=Outcome.FAILED, remaining=own.remaining)
