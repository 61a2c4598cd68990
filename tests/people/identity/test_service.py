from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations import service as conversations_service
from people.identity import service as identity_service
from people.identity.models import VerificationAttempt
from people.identity.service import Outcome

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EMILY_DOB = date(1992, 7, 21)


async def _conversation(session: AsyncSession, name: str) -> str:
    conversation = await conversations_service.get_or_create(session=session, channel="webchat", external_id=name)
    await session.flush()
    return conversation.id


async def test_match_verifies_and_links_the_conversation(session: AsyncSession) -> None:
    cid = await _conversation(session, "s-ok")
    result = await identity_service.verify(
        session=session, conversation_id=cid, reference="UK-300552", date_of_birth=EMILY_DOB, now=T0
    )
    assert result.outcome is Outcome.VERIFIED and result.debtor and result.debtor.name == "Emily Carter"
    conversation = await conversations_service.get(session=session, conversation_id=cid)
    assert conversation and conversation.debtor_id == result.debtor.id and conversation.verified_at == T0


async def test_three_failures_lock_for_thirty_minutes(session: AsyncSession) -> None:
    cid = await _conversation(session, "s-lock")
    outcomes = []
    for minute in range(3):
        result = await identity_service.verify(
            session=session,
            conversation_id=cid,
            reference="UK-300552",
            date_of_birth=date(1990, 1, 1),
            now=T0 + timedelta(minutes=minute),
        )
        outcomes.append((result.outcome, result.remaining))
    assert outcomes == [(Outcome.FAILED, 2), (Outcome.FAILED, 1), (Outcome.LOCKED, 0)]
    # Locked: even the right date of birth is refused and not recorded.
    during = await identity_service.verify(
        session=session,
        conversation_id=cid,
        reference="UK-300552",
        date_of_birth=EMILY_DOB,
        now=T0 + timedelta(minutes=31),
    )
    assert during.outcome is Outcome.LOCKED and during.locked_until == T0 + timedelta(minutes=32)
    after = await identity_service.verify(
        session=session,
        conversation_id=cid,
        reference="UK-300552",
        date_of_birth=EMILY_DOB,
        now=T0 + timedelta(minutes=32),
    )
    assert after.outcome is Outcome.VERIFIED
    attempts = (
        await session.scalars(select(VerificationAttempt).where(VerificationAttempt.conversation_id == cid))
    ).all()
    assert [a.success for a in attempts] == [False, False, False, True]
    assert all(a.claimed_reference == "UK300552" for a in attempts)


async def test_lock_follows_the_reference_across_conversations(session: AsyncSession) -> None:
    for n in range(3):
        cid = await _conversation(session, f"s-rotate-{n}")
        await identity_service.verify(
            session=session, conversation_id=cid, reference="SE-100234", date_of_birth=date(1980, 1, 1), now=T0
        )
    fresh = await _conversation(session, "s-rotate-new")
    result = await identity_service.verify(
        session=session, conversation_id=fresh, reference="SE-100234", date_of_birth=date(1985, 4, 12), now=T0
    )
    # Locked by other chats' failures: refused unchecked, answered like wrong details.
    assert (result.outcome, result.remaining) == (Outcome.FAILED, 2)


async def test_unknown_reference_fails_like_a_wrong_date(session: AsyncSession) -> None:
    cid = await _conversation(session, "s-unknown")
    result = await identity_service.verify(
        session=session, conversation_id=cid, reference="ZZ-999999", date_of_birth=EMILY_DOB, now=T0
    )
    assert result.outcome is Outcome.FAILED and result.remaining == 2 and result.debtor is None


async def test_success_clears_its_own_references_failures(session: AsyncSession) -> None:
    cid = await _conversation(session, "s-reset")
    for dob in (date(1990, 1, 1), date(1990, 1, 2), EMILY_DOB):
        await identity_service.verify(
            session=session, conversation_id=cid, reference="UK-300552", date_of_birth=dob, now=T0
        )
    state = await identity_service.lock_state(session=session, conversation_id=cid, now=T0)
    assert state.locked_until is None and state.remaining == 3
