"""Hardship cases on SQLite and PostgreSQL: reported before verification, options kept for the specialist."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations import service as conversations_service
from money.hardship import service as hardship_service
from money.hardship.models import HardshipOption
from people.debtors import service as debtors_service


async def conversation(session: AsyncSession) -> str:
    return (await conversations_service.ensure(session=session, conversation_id=uuid.uuid4().hex)).id


async def test_a_case_is_recorded_before_verification_and_a_repeat_reuses_it(session: AsyncSession) -> None:
    cid = await conversation(session)
    first = await hardship_service.record(session=session, conversation_id=cid, locale="sv")
    assert first.id and first.debtor_id is None and first.option is None and first.locale == "sv"
    anna = await debtors_service.get_by_reference(session=session, reference="SE-100234")
    assert anna
    again = await hardship_service.record(session=session, conversation_id=cid, locale="sv", debtor_id=anna.id)
    assert again.id == first.id and again.debtor_id == anna.id
    assert [c.id for c in await hardship_service.for_conversation(session=session, conversation_id=cid)] == [first.id]


async def test_choosing_records_the_option_and_a_different_choice_keeps_the_first(session: AsyncSession) -> None:
    cid = await conversation(session)
    case = await hardship_service.record(session=session, conversation_id=cid, locale="en")
    chosen = await hardship_service.choose(session=session, case_id=case.id, option=HardshipOption.PAUSE)
    assert chosen.id == case.id and chosen.option is HardshipOption.PAUSE and chosen.option_chosen_at is not None
    same = await hardship_service.choose(session=session, case_id=case.id, option=HardshipOption.PAUSE)
    assert same.id == case.id
    other = await hardship_service.choose(session=session, case_id=case.id, option=HardshipOption.TOKEN_PLAN)
    assert other.id != case.id and other.locale == "en"
    await session.commit()
    cases = await hardship_service.for_conversation(session=session, conversation_id=cid)
    assert [c.option for c in cases] == [HardshipOption.PAUSE, HardshipOption.TOKEN_PLAN]
    assert (await hardship_service.latest(session=session, conversation_id=cid)).id == other.id  # type: ignore[union-attr]


async def test_a_report_after_a_choice_opens_a_new_case(session: AsyncSession) -> None:
    cid = await conversation(session)
    case = await hardship_service.record(session=session, conversation_id=cid, locale="de")
    await hardship_service.choose(session=session, case_id=case.id, option=HardshipOption.TOKEN_PLAN)
    new = await hardship_service.record(session=session, conversation_id=cid, locale="de")
    assert new.id != case.id and new.option is None


async def test_choosing_on_an_unknown_case_is_an_error(session: AsyncSession) -> None:
    with pytest.raises(hardship_service.UnknownCase):
        await hardship_service.choose(session=session, case_id=10_000_000, option=HardshipOption.PAUSE)
