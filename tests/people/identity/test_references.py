"""Typed references in any spelling: candidates (pure), the service's choice, and verification
by an imported reference's key, with the lockout counted per key."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations import service as conversations_service
from people.debtors.references import reference_key
from people.identity import references
from people.identity import service as identity_service
from people.identity.service import Outcome
from tests.people.identity.imported import imported

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def _conversation(session: AsyncSession) -> str:
    chat = await conversations_service.get_or_create(session=session, channel="webchat", external_id=uuid.uuid4().hex)
    await session.flush()
    return chat.id


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("INV/2024/00123", "INV202400123"),
        ("inv-2024-00123", "INV202400123"),
        ("INV2024 00123", "INV202400123"),
        ("se 100234", "SE100234"),
        ("7731–20455", "773120455"),
    ],
)
def test_the_key_ignores_separators_spaces_and_case(typed: str, key: str) -> None:
    assert reference_key(typed) == key
    assert key in [c.key for c in references.candidates(f"my ref is {typed}, thanks")]


@pytest.mark.parametrize("text", ["hello there", "I don't know", "abcdefgh", "123", "12/04/1985", "1985-04-12"])
def test_words_without_digits_short_numbers_and_dates_are_never_references(text: str) -> None:
    assert references.candidates(text) == []
    assert references.fallback(text) is None


def test_the_likely_reference_skips_dates_and_a_lone_year() -> None:
    assert references.fallback("ref inv/2024/00999 born 1.2.1980") == "INV202400999"
    assert references.fallback("born 12 april 1985") is None
    assert references.fallback("x" * 40 + "1") is None  # longer than any reference


async def test_the_known_reference_is_chosen_whatever_surrounds_it(session: AsyncSession) -> None:
    placed = await imported(session)
    key = reference_key(placed.reference)
    spaced = placed.reference.replace("/", " ").lower()
    for text in (f"my ref is {placed.reference.lower()}", spaced, f"hi {spaced} born 09.03.1984"):
        assert await identity_service.read_reference(session=session, texts=[text]) == key
    unknown = await identity_service.read_reference(session=session, texts=["ref QQ/1/000000001 please"])
    assert unknown == "QQ1000000001"
    assert await identity_service.read_reference(session=session, texts=["no idea, sorry"]) is None


@pytest.mark.parametrize("spelling", [str.lower, lambda r: r.replace("/", "-"), lambda r: r.replace("/", " ", 1)])
async def test_an_imported_reference_verifies_in_another_spelling(session: AsyncSession, spelling: object) -> None:
    placed = await imported(session)
    cid = await _conversation(session)
    typed = spelling(placed.reference)  # type: ignore[operator]
    result = await identity_service.verify(
        session=session, conversation_id=cid, reference=typed, date_of_birth=placed.born, now=T0
    )
    assert result.outcome is Outcome.VERIFIED and result.debtor and result.debtor.id == placed.debtor_id


async def test_failures_in_different_spellings_count_on_one_reference(session: AsyncSession) -> None:
    """Three chats, three spellings, wrong dates: the reference locks, and a fourth chat with the
    right date is refused unchecked (answered as a plain failure)."""
    placed = await imported(session)
    spellings = [placed.reference.lower(), placed.reference.replace("/", "-"), placed.reference.replace("/", "")]
    for minute, typed in enumerate(spellings):
        result = await identity_service.verify(
            session=session, conversation_id=await _conversation(session), reference=typed,
            date_of_birth=date(1970, 1, 1), now=T0 + timedelta(minutes=minute),
        )  # fmt: skip
        assert result.outcome is Outcome.FAILED
    counter = await identity_service.reference_counter(
        session=session, reference=reference_key(placed.reference), now=T0 + timedelta(minutes=3)
    )
    assert counter.locked_until == T0 + timedelta(minutes=2 + 30)
    late = await identity_service.verify(
        session=session, conversation_id=await _conversation(session), reference=placed.reference,
        date_of_birth=placed.born, now=T0 + timedelta(minutes=4),
    )  # fmt: skip
    assert late.outcome is Outcome.FAILED and late.remaining == 2


async def test_colliding_references_verify_only_the_person_the_date_singles_out(session: AsyncSession) -> None:
    shared = f"K{uuid.uuid4().int % 10**8:08d}"
    one = await imported(session, reference=shared, born=date(1980, 5, 5))
    other = await imported(session, reference=f"{shared[:4]}-{shared[4:]}", born=date(1991, 6, 6))
    for placed in (one, other):
        result = await identity_service.verify(
            session=session, conversation_id=await _conversation(session), reference=shared,
            date_of_birth=placed.born, now=T0,
        )  # fmt: skip
        assert result.debtor and result.debtor.id == placed.debtor_id
    twin = await imported(session, reference=shared.lower(), born=date(1980, 5, 5))
    ambiguous = await identity_service.verify(
        session=session, conversation_id=await _conversation(session), reference=shared,
        date_of_birth=twin.born, now=T0,
    )  # fmt: skip
    assert ambiguous.outcome is Outcome.FAILED
