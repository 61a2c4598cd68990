"""A debtor of the test's own (its own creditor) with one of every event the export back reports,
made through the owning services at chosen times where they take one (`now`), else at the real
time (the ledger's payments and refunds, consent changes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from money.arrangements import service as arrangements
from money.arrangements.models import Frequency
from money.arrangements.schedule import Proposal, decide
from money.disputes import service as disputes
from money.disputes.models import DisputeReason, DisputeStatus
from money.holds import service as holds
from money.holds.models import HoldReason
from money.ledger import service as ledger
from money.ledger.money import to_minor
from payments.models import Payment
from people.consent import service as consent
from people.debtors import service as debtors

HOUR = timedelta(hours=1)
PHONE = "+46701740642"  # PTS fiction range


@dataclass(frozen=True)
class Scenario:
    creditor: str
    references: tuple[str, str]
    since: datetime  # a day before the real time: the timed events are at since + n hours
    until: datetime  # after every event (the promises are decided days ahead)
    plan_total: str
    paid: str
    refunded: str


async def add_person(
    session: AsyncSession, creditor: str, references: tuple[str, ...], currency: str = "SEK"
) -> tuple[int, list[int]]:
    [debtor_id] = await debtors.add_debtors(
        session=session,
        debtors=[debtors.NewDebtor("Eva Berg", date(1980, 2, 3), "SE", "sv", "Europe/Stockholm", PHONE, None)],
    )
    new = [
        debtors.NewDebt(debtor_id, creditor, ref, currency, date(2027, 1, 31), (("principal", Decimal("1000.00")),))
        for ref in references
    ]
    debt_ids = await debtors.add_debts(session=session, debts=new)
    await ledger.open_debts(
        session=session,
        placements=[
            ledger.Placement(i, debtor_id, currency, (("principal", to_minor(1000, currency)),)) for i in debt_ids
        ],
    )
    return debtor_id, debt_ids


async def pay(session: AsyncSession, debtor_id: int, debt_ids: list[int], amount_minor: int) -> int:
    payment = Payment(
        debtor_id=debtor_id, provider="sandbox", currency="SEK", amount_minor=amount_minor, debt_ids=debt_ids
    )
    session.add(payment)
    await session.flush()
    debts = await debtors.open_debts(session=session, debtor_id=debtor_id, debt_ids=debt_ids)
    await ledger.record_payment(
        session=session, key=f"test-payment:{payment.id}", payment_id=payment.id, debtor_id=debtor_id,
        provider="sandbox", currency="SEK", amount_minor=amount_minor, debts=debts,
    )  # fmt: skip
    return payment.id


async def every_event(session: AsyncSession, *, creditor: str | None = None, source: str = "keyword:STOP") -> Scenario:
    creditor = creditor or f"Export Creditor {uuid.uuid4().hex[:10]}"
    references = (f"EX-{uuid.uuid4().hex[:8]}", f"EX-{uuid.uuid4().hex[:8]}")
    since = utcnow() - timedelta(days=1)
    debtor_id, debt_ids = await add_person(session, creditor, references)
    who = await debtors.get(session=session, debtor_id=debtor_id)
    assert who is not None
    # A plan over the first debt only (the second is disputed below), agreed at since + 1h.
    basis = arrangements.Basis("SEK", to_minor(1000, "SEK"), (debt_ids[0],), (creditor,))
    terms = arrangements.terms_for(country=who.country, basis=basis)
    today = arrangements.local_today(who)
    proposal = Proposal(frequency=Frequency.MONTHLY, first_date=today + timedelta(days=1), count=1)
    decision = decide(principal=basis.balance, proposal=proposal, terms=terms, today=today)
    plan = await arrangements.create_plan(
        session=session, debtor_id=debtor_id, basis=basis, decision=decision, terms=terms, conversation_id=None,
        now=since + HOUR,
    )  # fmt: skip
    due = today + timedelta(days=1)
    for amount in (100, 10**9):  # one kept by the payment below, one broken
        await arrangements.record_promise(
            session=session, debtor_id=debtor_id, conversation_id=None, amount_minor=amount, currency="SEK",
            due_date=due, now=since + 2 * HOUR,
        )  # fmt: skip
    dispute = await disputes.open_dispute(
        session=session, debtor_id=debtor_id, debt_id=debt_ids[1], reason=DisputeReason.ALREADY_PAID,
        details="I paid it in March, call me on 070-174 06 42", now=since + 3 * HOUR,
    )  # fmt: skip
    await disputes.resolve_dispute(
        session=session, dispute_id=dispute.id, status=DisputeStatus.REJECTED, agent_id=None, now=since + 4 * HOUR
    )
    await holds.place(
        session=session, debtor_id=debtor_id, reason=HoldReason.HARDSHIP, ends_at=since + 6 * HOUR, now=since + 5 * HOUR
    )
    await consent.set_opted_out(
        session=session, channel="sms", address=PHONE, opted_out=True, source=source, debtor_id=debtor_id
    )
    payment_id = await pay(session, debtor_id, [debt_ids[0]], plan.total_minor)
    await arrangements.evaluate_plans(session=session, now=utcnow())  # paid in full: completed
    await ledger.record_refund(
        session=session, key=f"test-refund:{payment_id}", payment_id=payment_id, debtor_id=debtor_id,
        provider="sandbox", currency="SEK", amount_minor=500,
    )  # fmt: skip
    decided = arrangements.end_of_day(due, who.timezone) + HOUR
    await arrangements.evaluate_promises(session=session, now=decided)
    await session.flush()
    total = str(Decimal(plan.total_minor).scaleb(-2).quantize(Decimal("0.01")))
    return Scenario(creditor, references, since, decided + HOUR, total, total, "5.00")
