"""Debtor segments: derived (vulnerable, new, returning) and assigned by an admin, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations.models import Conversation
from handoff.models import PRIORITY, Handoff, Reason
from locales import Catalog, Overrides
from locales.tone import segments
from locales.tone.segments import NEW, RETURNING, VULNERABLE
from locales.tone.service import ToneError
from money.hardship.models import HardshipCase
from people.debtors.models import Debtor


async def debtor(session: AsyncSession, reference: str) -> Debtor:
    found = await session.scalar(select(Debtor).where(Debtor.reference == reference))
    assert found is not None
    return found


async def conversation(session: AsyncSession, debtor_id: int | None, *, days_ago: int = 0) -> Conversation:
    row = Conversation(channel="webchat", external_id=f"tone-{utcnow().timestamp()}-{days_ago}", debtor_id=debtor_id)
    row.created_at = utcnow() - timedelta(days=days_ago)
    session.add(row)
    await session.flush()
    return row


async def test_new_then_returning_then_assigned_then_vulnerable(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    first = await conversation(session, emily.id, days_ago=3)
    assert await segments.segments_of(session=session, conversation_id=first.id) == [NEW]
    second = await conversation(session, emily.id)
    assert await segments.segments_of(session=session, conversation_id=second.id) == [RETURNING]
    assert await segments.segments_of(session=session, conversation_id=first.id) == [NEW]  # still their first

    await segments.assign(session=session, reference="uk-300552 ", segment="High_Balance", author_id=None)
    assert await segments.segments_of(session=session, conversation_id=second.id) == ["high_balance", RETURNING]

    # A hardship case in the earlier conversation makes every conversation of the debtor vulnerable.
    session.add(HardshipCase(conversation_id=first.id, debtor_id=None, locale="en"))
    await session.flush()
    assert await segments.segments_of(session=session, conversation_id=second.id) == [
        VULNERABLE, "high_balance", RETURNING,
    ]  # fmt: skip
    assert await segments.segments_of_debtor(session=session, debtor_id=emily.id) == [
        VULNERABLE, "high_balance", RETURNING,
    ]  # fmt: skip


async def test_unverified_conversations_are_only_vulnerable_or_nothing(session: AsyncSession) -> None:
    anonymous = await conversation(session, None)
    assert await segments.segments_of(session=session, conversation_id=anonymous.id) == []
    assert await segments.segments_of(session=session, conversation_id="no-such-conversation") == []
    session.add(
        Handoff(
            conversation_id=anonymous.id, reason=Reason.VULNERABILITY, priority=PRIORITY[Reason.VULNERABILITY],
            reasons=[],
        )
    )  # fmt: skip
    await session.flush()
    assert await segments.segments_of(session=session, conversation_id=anonymous.id) == [VULNERABLE]


async def test_a_dispute_handoff_is_not_vulnerability(session: AsyncSession) -> None:
    jonas = await debtor(session, "DE-200871")
    talk = await conversation(session, jonas.id)
    session.add(Handoff(conversation_id=talk.id, reason=Reason.DISPUTE, priority=PRIORITY[Reason.DISPUTE], reasons=[]))
    await session.flush()
    assert await segments.segments_of(session=session, conversation_id=talk.id) == [NEW]


async def test_assignment_is_one_per_debtor_and_can_be_removed(session: AsyncSession) -> None:
    anna = await debtor(session, "SE-100234")
    first = await segments.assign(session=session, reference="SE-100234", segment="business", author_id=None)
    second = await segments.assign(session=session, reference="SE-100234", segment="vip", author_id=None)
    assert first.id == second.id and second.segment == "vip"
    assert [(s.segment, d.reference) for s, d in await segments.assignments(session=session)] == [("vip", "SE-100234")]
    assert "vip" in await segments.known(session=session)
    await segments.unassign(session=session, debtor_id=anna.id)
    assert await segments.assignments(session=session) == []
    for call, code, status in (
        (segments.assign(session=session, reference="XX-1", segment="vip", author_id=None), "unknown_debtor", 404),
        (
            segments.assign(session=session, reference="SE-100234", segment="no way", author_id=None),
            "invalid_segment",
            422,
        ),
        (segments.unassign(session=session, debtor_id=anna.id), "not_assigned", 404),
    ):
        with pytest.raises(ToneError) as caught:
            await call
        assert (caught.value.code, caught.value.status) == (code, status)


class Static:
    def __init__(self, overrides: Overrides) -> None:
        self.overrides = overrides

    def current(self) -> Overrides:
        return self.overrides

    async def refresh(self, *, force: bool = False) -> Overrides:
        return self.overrides


async def test_tone_for_reads_nothing_without_segment_tones(session: AsyncSession) -> None:
    lucas = await debtor(session, "BR-400918")
    talk = await conversation(session, lucas.id)
    plain = Catalog()
    assert await segments.tone_for(session=session, catalog=plain, conversation_id=talk.id, locale="pt-BR") is None
    toned = Catalog(overrides=Static(Overrides(segment_tones={("pt-BR", NEW): "formal"})))
    assert await segments.tone_for(session=session, catalog=toned, conversation_id=talk.id, locale="pt-BR") == "formal"
    assert await segments.tone_for(session=session, catalog=toned, conversation_id=talk.id, locale="en") is None
