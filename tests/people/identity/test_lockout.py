"""The two lockout counters (per claimed reference, per conversation) on SQLite and PostgreSQL:
nothing an attacker can do in between resets a reference's count, and the text-facing numbers
come from the conversation's own failures only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations import service as conversations_service
from people.identity import service as identity_service
from people.identity.models import VerificationAttempt
from people.identity.service import Outcome, VerificationResult

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EMILY, EMILY_DOB = "UK-300552", date(1992, 7, 21)
ANNA, ANNA_DOB = "SE-100234", date(1985, 4, 12)
JONAS, JONAS_DOB = "DE-200871", date(1979, 11, 3)
WRONG = date(1970, 1, 1)


async def _chat(session: AsyncSession, name: str, channel: str = "webchat") -> str:
    conversation = await conversations_service.get_or_create(session=session, channel=channel, external_id=name)
    await session.flush()
    return conversation.id


async def _try(session: AsyncSession, cid: str, reference: str, dob: date, at: datetime) -> VerificationResult:
    return await identity_service.verify(
        session=session, conversation_id=cid, reference=reference, date_of_birth=dob, now=at
    )


async def test_own_success_does_not_clear_another_references_count(session: AsyncSession) -> None:
    """The attack: verify as yourself, guess on someone else's reference, repeat."""
    cid = await _chat(session, "own-success")
    at = T0
    outcomes = []
    for _ in range(3):
        assert (await _try(session, cid, EMILY, EMILY_DOB, at)).outcome is Outcome.VERIFIED
        at += timedelta(seconds=10)
        outcomes.append((await _try(session, cid, ANNA, WRONG, at)).outcome)
        at += timedelta(seconds=10)
    assert outcomes[-1] is Outcome.LOCKED  # the third wrong guess on Anna, whatever came between
    # Anna's reference is locked for everyone: even her own date of birth in a fresh chat fails.
    fresh = await _chat(session, "anna-herself")
    refused = await _try(session, fresh, ANNA, ANNA_DOB, at)
    assert (refused.outcome, refused.remaining) == (Outcome.FAILED, 2)  # like wrong details: nothing told


async def test_three_failures_in_three_conversations_lock_the_reference(session: AsyncSession) -> None:
    for n in range(3):
        cid = await _chat(session, f"spread-{n}", channel=("webchat", "sms", "telegram")[n])
        result = await _try(session, cid, JONAS, WRONG, T0 + timedelta(minutes=n))
        assert (result.outcome, result.remaining) == (Outcome.FAILED, 2)  # each chat sees only its own
    later = T0 + timedelta(minutes=10)
    fresh = await _chat(session, "spread-new")
    assert (await _try(session, fresh, JONAS, JONAS_DOB, later)).outcome is Outcome.FAILED
    # Locked 30 minutes from the third failure; then the right details work again.
    again = await _chat(session, "spread-after")
    assert (await _try(session, again, JONAS, JONAS_DOB, T0 + timedelta(minutes=32))).outcome is Outcome.VERIFIED


async def test_a_locked_reference_answers_like_a_wrong_detail_and_counts_for_the_chat(session: AsyncSession) -> None:
    for n in range(3):
        await _try(session, await _chat(session, f"lockers-{n}"), ANNA, WRONG, T0)
    cid = await _chat(session, "bystander")
    answers = [await _try(session, cid, ANNA, ANNA_DOB, T0 + timedelta(minutes=m)) for m in (1, 2, 3)]
    assert [(a.outcome, a.remaining) for a in answers[:2]] == [(Outcome.FAILED, 2), (Outcome.FAILED, 1)]
    assert answers[2].outcome is Outcome.LOCKED and answers[2].locked_until == T0 + timedelta(minutes=33)
    # An unknown reference is answered the same way as a real one.
    unknown = await _try(session, await _chat(session, "unknown"), "ZZ-999999", WRONG, T0)
    assert (unknown.outcome, unknown.remaining, unknown.debtor) == (Outcome.FAILED, 2, None)
    stored = (
        await session.scalars(select(VerificationAttempt).where(VerificationAttempt.conversation_id == cid))
    ).all()
    assert [(a.success, a.refused) for a in stored] == [(False, True)] * 3  # never checked


async def test_the_lock_survives_a_new_conversation_and_grows_on_repeat(session: AsyncSession) -> None:
    def chat_name(n: int) -> str:
        return f"repeat-{n}"

    n = 0

    async def three_failures(at: datetime) -> None:
        nonlocal n
        for _ in range(3):
            n += 1
            await _try(session, await _chat(session, chat_name(n)), EMILY, WRONG, at)

    await three_failures(T0)  # locked 30 minutes
    assert (await _try(session, await _chat(session, "r-a"), EMILY, EMILY_DOB, T0 + timedelta(minutes=29))).outcome is (
        Outcome.FAILED
    )
    second = T0 + timedelta(minutes=31)
    await three_failures(second)  # locked 2 hours
    probe = second + timedelta(hours=1, minutes=59)
    assert (await _try(session, await _chat(session, "r-b"), EMILY, EMILY_DOB, probe)).outcome is Outcome.FAILED
    third = second + timedelta(hours=2, minutes=1)
    await three_failures(third)  # locked 24 hours
    probe = third + timedelta(hours=23)
    assert (await _try(session, await _chat(session, "r-c"), EMILY, EMILY_DOB, probe)).outcome is Outcome.FAILED
    after = third + timedelta(hours=24, minutes=1)
    assert (await _try(session, await _chat(session, "r-d"), EMILY, EMILY_DOB, after)).outcome is Outcome.VERIFIED
    # A success clears the reference's history: the next three failures lock for 30 minutes again.
    await three_failures(after + timedelta(minutes=1))
    back = after + timedelta(minutes=32)
    assert (await _try(session, await _chat(session, "r-e"), EMILY, EMILY_DOB, back)).outcome is Outcome.VERIFIED


async def test_the_conversation_counter_spans_references_and_survives_own_successes(session: AsyncSession) -> None:
    """Three failures in one chat lock it, on three different references, with the person's own
    successful verification in between (which clears none of them)."""
    cid = await _chat(session, "wide")
    at = T0
    results = []
    for reference in (ANNA, "ZZ-000001", JONAS):
        assert (await _try(session, cid, EMILY, EMILY_DOB, at)).outcome is Outcome.VERIFIED
        results.append(await _try(session, cid, reference, WRONG, at + timedelta(seconds=1)))
        at += timedelta(minutes=1)
    assert [(r.outcome, r.remaining) for r in results[:2]] == [(Outcome.FAILED, 2), (Outcome.FAILED, 1)]
    assert results[2].outcome is Outcome.LOCKED
    state = await identity_service.lock_state(session=session, conversation_id=cid, now=at)
    assert state.locked_until == T0 + timedelta(minutes=2, seconds=1) + timedelta(minutes=30)
    # Locked: even the person's own details are refused in this chat, and nothing is recorded.
    assert (await _try(session, cid, EMILY, EMILY_DOB, at)).outcome is Outcome.LOCKED
    # No reference got three failures: each is still open to its owner elsewhere.
    elsewhere = await _chat(session, "anna-elsewhere")
    assert (await _try(session, elsewhere, ANNA, ANNA_DOB, at)).outcome is Outcome.VERIFIED


async def test_a_typo_on_ones_own_reference_is_cleared_by_the_success(session: AsyncSession) -> None:
    cid = await _chat(session, "typo")
    await _try(session, cid, ANNA, WRONG, T0)
    await _try(session, cid, ANNA, date(1985, 12, 4), T0 + timedelta(seconds=5))  # day and month swapped
    assert (await _try(session, cid, ANNA, ANNA_DOB, T0 + timedelta(seconds=10))).outcome is Outcome.VERIFIED
    state = await identity_service.lock_state(session=session, conversation_id=cid, now=T0 + timedelta(minutes=1))
    assert (state.locked_until, state.remaining) == (None, 3)


async def test_failures_expire_after_a_day(session: AsyncSession) -> None:
    for n in range(2):
        await _try(session, await _chat(session, f"old-{n}"), JONAS, WRONG, T0)
    late = T0 + timedelta(days=1, minutes=1)
    result = await _try(session, await _chat(session, "late"), JONAS, WRONG, late)
    assert (result.outcome, result.remaining) == (Outcome.FAILED, 2)
    assert (await _try(session, await _chat(session, "late-ok"), JONAS, JONAS_DOB, late)).outcome is Outcome.VERIFIED


async def test_the_reference_is_normalised_before_it_is_counted(session: AsyncSession) -> None:
    for n, typed in enumerate(("se 100234", "se100234", "SE-100234")):
        await _try(session, await _chat(session, f"spelled-{n}"), typed, WRONG, T0)
    result = await _try(session, await _chat(session, "spelled-owner"), "SE-100234", ANNA_DOB, T0)
    assert result.outcome is Outcome.FAILED
