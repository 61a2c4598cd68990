"""Disputes (SQLite and PostgreSQL): a case pauses collection on its debt everywhere money is
asked for, once per debt, until an agent rejects it; an upheld dispute keeps the debt paused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from core.pii.cards import MARKER
from engine.conversations import service as conversations_service
from locales import Catalog
from money.arrangements import service as arrangements_service
from money.arrangements.models import Frequency
from money.arrangements.schedule import Proposal, decide
from money.disputes import service
from money.disputes.models import DisputeReason, DisputeStatus
from money.disputes.service import DisputeError
from money.holds import service as holds_service
from money.holds.models import CollectionHold, HoldReason
from payments import service as payments_service
from payments.service import CollectionPaused
from people.debtors import service as debtors_service
from people.debtors.models import Debt, Debtor
from tests.money.arrangements.test_service import FakeProvider

catalog = Catalog()


async def debtor(session: AsyncSession, reference: str) -> Debtor:
    found = await debtors_service.get_by_reference(session=session, reference=reference)
    assert found is not None
    return found


async def debts(session: AsyncSession, who: Debtor) -> list[Debt]:
    return await debtors_service.open_debts(session=session, debtor_id=who.id)


async def test_opening_pauses_the_debt_and_keeps_the_debtors_words_without_card_numbers(
    session: AsyncSession,
) -> None:
    anna = await debtor(session, "SE-100234")
    telecom, elkraft = await debts(session, anna)
    sid = uuid.uuid4().hex
    await conversations_service.ensure(session=session, conversation_id=sid)
    dispute = await service.open_dispute(
        session=session, debtor_id=anna.id, debt_id=telecom.id, reason=DisputeReason.NOT_MINE,
        details="Inte min! Mitt kort 4242 4242 4242 4242 har aldrig använts där", conversation_id=sid,
    )  # fmt: skip
    assert dispute.id and dispute.status is DisputeStatus.OPEN and dispute.conversation_id == sid
    assert dispute.details and MARKER in dispute.details and "4242 4242" not in dispute.details
    assert await holds_service.paused_debt_ids(session=session, debtor_id=anna.id) == {telecom.id}
    [hold] = await holds_service.active(session=session, debtor_id=anna.id)
    assert (hold.reason, hold.debt_id, hold.source_id) == (HoldReason.DISPUTE, telecom.id, dispute.id)
    assert [d.id for d in await service.open_disputes(session=session, debtor_id=anna.id)] == [dispute.id]
    [view] = await service.for_conversation(session=session, conversation_id=sid)
    assert (view.debt_reference, view.creditor) == ("NT-7781203", "Nordic Telecom AB")
    listed = view.as_dict()
    assert listed["reason"] == "not_mine" and listed["status"] == "open" and listed["debt_id"] == telecom.id
    assert [v.dispute.id for v in await service.for_debtor(session=session, debtor_id=anna.id)] == [dispute.id]
    assert elkraft.id not in await holds_service.paused_debt_ids(session=session, debtor_id=anna.id)


async def test_opening_twice_gives_the_same_case_and_one_hold(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    [water] = await debts(session, emily)
    first = await service.open_dispute(
        session=session, debtor_id=emily.id, debt_id=water.id, reason=DisputeReason.ALREADY_PAID
    )
    again = await service.open_dispute(
        session=session, debtor_id=emily.id, debt_id=water.id, reason=DisputeReason.WRONG_AMOUNT, details="x"
    )
    assert again.id == first.id and again.reason is DisputeReason.ALREADY_PAID
    holds = (await session.scalars(select(CollectionHold).where(CollectionHold.debt_id == water.id))).all()
    assert len(holds) == 1


async def test_someone_elses_debt_cannot_be_disputed(session: AsyncSession) -> None:
    emily, jonas = await debtor(session, "UK-300552"), await debtor(session, "DE-200871")
    [versand] = await debts(session, jonas)
    with pytest.raises(DisputeError) as refused:
        await service.open_dispute(session=session, debtor_id=emily.id, debt_id=versand.id, reason=DisputeReason.OTHER)
    assert (refused.value.code, refused.value.status) == ("debt_not_found", 404)
    with pytest.raises(DisputeError):
        await service.open_dispute(session=session, debtor_id=emily.id, debt_id=10**9, reason=DisputeReason.OTHER)
    assert await holds_service.paused_debt_ids(session=session, debtor_id=jonas.id) == set()


async def test_a_disputed_debt_is_left_out_of_plans_promises_and_payment_links(session: AsyncSession) -> None:
    anna = await debtor(session, "SE-100234")
    telecom, elkraft = await debts(session, anna)
    before = await arrangements_service.basis(session=session, debtor_id=anna.id)
    assert before and before.balance == 425000
    await service.open_dispute(session=session, debtor_id=anna.id, debt_id=telecom.id, reason=DisputeReason.NOT_MINE)
    for exclude_planned in (True, False):  # plans and promises alike
        basis = await arrangements_service.basis(session=session, debtor_id=anna.id, exclude_planned=exclude_planned)
        assert basis and basis.debt_ids == (elkraft.id,) and basis.balance == 218000
        assert basis.creditors == ("ElKraft AB",)
    provider = FakeProvider()
    checkout = {
        "session": session, "provider": provider, "debtor": anna, "conversation_id": None, "locale": "sv",
        "descriptions": {}, "success_url": "http://x/ok", "cancel_url": "http://x/no",
    }  # fmt: skip
    with pytest.raises(CollectionPaused) as paused:
        await payments_service.start_checkouts(debt_ids=[telecom.id, elkraft.id], **checkout)  # type: ignore[arg-type]
    assert paused.value.debt_ids == {telecom.id} and provider.requests == []
    [everything] = await payments_service.start_checkouts(debt_ids=None, **checkout)  # type: ignore[arg-type]
    assert everything.debt_ids == [elkraft.id] and everything.amount_minor == 218000


async def test_nothing_to_arrange_when_the_only_debt_is_disputed(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    [water] = await debts(session, emily)
    await service.open_dispute(session=session, debtor_id=emily.id, debt_id=water.id, reason=DisputeReason.NOT_MINE)
    assert await arrangements_service.basis(session=session, debtor_id=emily.id) is None
    assert await arrangements_service.basis(session=session, debtor_id=emily.id, exclude_planned=False) is None


async def test_installments_of_a_plan_on_a_debt_disputed_later_get_no_link(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    [water] = await debts(session, emily)
    basis = await arrangements_service.basis(session=session, debtor_id=emily.id)
    assert basis
    terms = arrangements_service.terms_for(country=emily.country, basis=basis)
    today = arrangements_service.local_today(emily)
    decision = decide(
        principal=basis.balance, proposal=Proposal(Frequency.MONTHLY, today, amount=10000), terms=terms, today=today
    )
    plan = await arrangements_service.create_plan(
        session=session, debtor_id=emily.id, basis=basis, decision=decision, terms=terms, conversation_id=None,
        now=utcnow() - timedelta(minutes=1),
    )  # fmt: skip
    await service.open_dispute(session=session, debtor_id=emily.id, debt_id=water.id, reason=DisputeReason.OTHER)
    provider = FakeProvider()
    with pytest.raises(CollectionPaused):
        await arrangements_service.installment_checkout(
            session=session, provider=provider, installment_id=plan.installments[0].id,
            public_base_url="https://chat.test", catalog=catalog,
        )  # fmt: skip
    assert provider.requests == []


async def test_rejected_resumes_collection_upheld_keeps_it_paused(session: AsyncSession) -> None:
    anna = await debtor(session, "SE-100234")
    telecom, elkraft = await debts(session, anna)
    rejected = await service.open_dispute(
        session=session, debtor_id=anna.id, debt_id=telecom.id, reason=DisputeReason.ALREADY_PAID
    )
    upheld = await service.open_dispute(
        session=session, debtor_id=anna.id, debt_id=elkraft.id, reason=DisputeReason.NOT_MINE
    )
    done = await service.resolve_dispute(
        session=session, dispute_id=rejected.id, status=DisputeStatus.REJECTED, agent_id=None, note="  paid later  "
    )
    assert done.status is DisputeStatus.REJECTED and done.resolved_at and done.resolution_note == "paid later"
    assert await holds_service.paused_debt_ids(session=session, debtor_id=anna.id) == {elkraft.id}
    await service.resolve_dispute(session=session, dispute_id=upheld.id, status=DisputeStatus.UPHELD, agent_id=None)
    assert await holds_service.paused_debt_ids(session=session, debtor_id=anna.id) == {elkraft.id}
    assert await service.open_disputes(session=session, debtor_id=anna.id) == []
    basis = await arrangements_service.basis(session=session, debtor_id=anna.id)
    assert basis and basis.debt_ids == (telecom.id,)
    # The same debt can be disputed again after a rejection: a new case, a new hold.
    again = await service.open_dispute(
        session=session, debtor_id=anna.id, debt_id=telecom.id, reason=DisputeReason.WRONG_AMOUNT
    )
    assert again.id != rejected.id
    assert await holds_service.paused_debt_ids(session=session, debtor_id=anna.id) == {telecom.id, elkraft.id}


async def test_a_case_is_resolved_once_and_only_with_a_decision(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    [water] = await debts(session, emily)
    dispute = await service.open_dispute(
        session=session, debtor_id=emily.id, debt_id=water.id, reason=DisputeReason.WRONG_AMOUNT
    )
    with pytest.raises(DisputeError) as invalid:
        await service.resolve_dispute(session=session, dispute_id=dispute.id, status=DisputeStatus.OPEN, agent_id=None)
    assert (invalid.value.code, invalid.value.status) == ("invalid_status", 422)
    with pytest.raises(DisputeError) as bogus:
        await service.resolve_dispute(session=session, dispute_id=dispute.id, status="maybe", agent_id=None)  # type: ignore[arg-type]
    assert bogus.value.code == "invalid_status"
    with pytest.raises(DisputeError) as missing:
        await service.resolve_dispute(session=session, dispute_id=10**9, status=DisputeStatus.UPHELD, agent_id=None)
    assert (missing.value.code, missing.value.status) == ("dispute_not_found", 404)
    await service.resolve_dispute(session=session, dispute_id=dispute.id, status=DisputeStatus.UPHELD, agent_id=None)
    with pytest.raises(DisputeError) as twice:
        await service.resolve_dispute(
            session=session, dispute_id=dispute.id, status=DisputeStatus.REJECTED, agent_id=None
        )
    assert (twice.value.code, twice.value.status) == ("dispute_already_resolved", 409)
    assert (await service.get(session=session, dispute_id=dispute.id)).status is DisputeStatus.UPHELD  # type: ignore[union-attr]
    assert await holds_service.paused_debt_ids(session=session, debtor_id=emily.id) == {water.id}
