"""Plans and promises in the database (SQLite and PostgreSQL): policy per locale and creditor,
storage, costs in the ledger, payment links per installment, kept/broken from the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from locales import Catalog
from money.arrangements import service
from money.arrangements.models import Frequency, InstallmentStatus, PaymentPlan, PlanStatus, PromiseStatus
from money.arrangements.schedule import Outcome, Proposal, Reason, add_months, decide
from money.holds import service as holds_service
from money.holds.models import HoldReason
from money.ledger import service as ledger_service
from money.ledger.money import from_minor
from payments.models import Payment
from payments.providers import CheckoutRequest, CheckoutSession
from people.debtors import service as debtors_service
from people.debtors.models import Debt, Debtor

catalog = Catalog()


@dataclass
class FakeProvider:
    name: str = "sandbox"
    requests: list[CheckoutRequest] = field(default_factory=list)

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        self.requests.append(request)
        return CheckoutSession(id=f"cs_test_{request.payment_id}", url=f"https://pay.test/{request.payment_id}")


async def debtor(session: AsyncSession, reference: str) -> Debtor:
    found = await debtors_service.get_by_reference(session=session, reference=reference)
    assert found is not None
    return found


async def pay(session: AsyncSession, who: Debtor, amount_minor: int, currency: str) -> None:
    """Money received, as a succeeded provider event books it."""
    debts = await debtors_service.open_debts(session=session, debtor_id=who.id)
    payment = Payment(
        debtor_id=who.id,
        provider="sandbox",
        currency=currency,
        amount_minor=amount_minor,
        debt_ids=[d.id for d in debts],
    )
    session.add(payment)
    await session.flush()
    await ledger_service.record_payment(
        session=session, key=f"payment:{payment.id}", payment_id=payment.id, debtor_id=who.id, provider="sandbox",
        currency=currency, amount_minor=amount_minor, debts=debts,
    )  # fmt: skip


async def agree(session: AsyncSession, who: Debtor, proposal: Proposal, *, now: datetime | None = None) -> PaymentPlan:
    basis = await service.basis(session=session, debtor_id=who.id)
    assert basis is not None
    terms = service.terms_for(country=who.country, basis=basis)
    decision = decide(principal=basis.balance, proposal=proposal, terms=terms, today=service.local_today(who))
    return await service.create_plan(
        session=session, debtor_id=who.id, basis=basis, decision=decision, terms=terms, conversation_id=None,
        now=now or utcnow() - timedelta(minutes=1),
    )  # fmt: skip


async def test_basis_is_the_ledger_balance_and_the_strictest_policy_of_the_creditors(session: AsyncSession) -> None:
    anna = await debtor(session, "SE-100234")
    basis = await service.basis(session=session, debtor_id=anna.id)
    assert basis and (basis.currency, basis.balance) == ("SEK", 425000)
    assert basis.creditors == ("Nordic Telecom AB", "ElKraft AB")
    terms = service.terms_for(country=anna.country, basis=basis)
    assert (terms.min_installment, terms.max_months, terms.latest_first_date_days) == (20000, 6, 30)  # ElKraft: 6
    await pay(session, anna, 25000, "SEK")
    assert (await service.basis(session=session, debtor_id=anna.id)).balance == 400000  # type: ignore[union-attr]


async def test_plan_accepted_is_stored_with_its_schedule(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    first = service.local_today(emily) + timedelta(days=5)
    plan = await agree(session, emily, Proposal(Frequency.MONTHLY, first, amount=6000))
    stored = await service.active_plan(session=session, debtor_id=emily.id)
    assert stored is plan and plan.status is PlanStatus.ACTIVE and plan.currency == "GBP"
    assert [i.amount_minor for i in plan.installments] == [6000] * 10 + [1245]
    assert [i.due_date for i in plan.installments[:2]] == [first, add_months(first, 1)]
    assert {i.status for i in plan.installments} == {InstallmentStatus.PENDING}
    assert plan.total_minor == 61245 and (plan.setup_fee_minor, plan.interest_minor) == (0, 0)
    # Its debts are covered: no second plan for them.
    assert await service.basis(session=session, debtor_id=emily.id) is None


async def test_plan_countered_by_creditor_policy(session: AsyncSession) -> None:
    anna = await debtor(session, "SE-100234")
    basis = await service.basis(session=session, debtor_id=anna.id)
    assert basis
    terms = service.terms_for(country=anna.country, basis=basis)
    today = service.local_today(anna)
    proposal = Proposal(Frequency.MONTHLY, today + timedelta(days=45), amount=30000)
    decision = decide(principal=basis.balance, proposal=proposal, terms=terms, today=today)
    assert decision.outcome is Outcome.COUNTERED
    assert decision.reasons == (Reason.FIRST_DATE_TOO_LATE, Reason.TOO_LONG)
    assert decision.proposal.amount == 70834 and decision.proposal.first_date == today + timedelta(days=30)
    assert decision.schedule and len(decision.schedule.lines) == 6


async def test_plan_refused_by_policy_when_the_balance_is_below_the_minimum(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    await pay(session, emily, 60500, "GBP")  # £7.45 left, the minimum installment is £10
    basis = await service.basis(session=session, debtor_id=emily.id)
    assert basis and basis.balance == 745
    terms = service.terms_for(country=emily.country, basis=basis)
    today = service.local_today(emily)
    decision = decide(
        principal=basis.balance, proposal=Proposal(Frequency.WEEKLY, today, count=3), terms=terms, today=today
    )
    assert decision.outcome is Outcome.REFUSED and decision.reasons == (Reason.BALANCE_BELOW_MINIMUM,)


async def test_interest_is_charged_to_the_ledger_and_shown_in_the_balance(session: AsyncSession) -> None:
    jonas = await debtor(session, "DE-200871")  # de: 5 % a year
    plan = await agree(session, jonas, Proposal(Frequency.MONTHLY, service.local_today(jonas), count=6))
    assert plan.interest_minor > 0 and plan.annual_interest_rate == 5
    assert sum(i.amount_minor for i in plan.installments) == plan.total_minor == 40840 + plan.interest_minor
    balance = await debtors_service.open_balance(session=session, debtor_id=jonas.id)
    assert balance.totals == (("EUR", from_minor(40840 + plan.interest_minor, "EUR")),)
    assert "interest" in [c.kind for c in balance.debts[0].components]


async def test_setup_fee_is_owed_with_the_first_installment(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    basis = await service.basis(session=session, debtor_id=emily.id)
    assert basis
    terms = replace(service.terms_for(country=emily.country, basis=basis), setup_fee=250)
    today = service.local_today(emily)
    decision = decide(
        principal=basis.balance, proposal=Proposal(Frequency.MONTHLY, today, count=3), terms=terms, today=today
    )
    plan = await service.create_plan(
        session=session, debtor_id=emily.id, basis=basis, decision=decision, terms=terms, conversation_id=None
    )
    assert (plan.setup_fee_minor, plan.installments[0].fee_minor, plan.installments[1].fee_minor) == (250, 250, 0)
    assert plan.installments[0].amount_minor == plan.installments[1].amount_minor + 250
    balance = await debtors_service.open_balance(session=session, debtor_id=emily.id)
    assert balance.totals == (("GBP", from_minor(61245 + 250, "GBP")),)
    assert [(c.kind, c.amount) for c in balance.debts[0].components] == [
        ("principal", from_minor(61245, "GBP")),
        ("fees", from_minor(250, "GBP")),
    ]


async def test_installment_checkout_links_each_installment_once(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    plan = await agree(session, emily, Proposal(Frequency.WEEKLY, service.local_today(emily), amount=10000))
    provider = FakeProvider()
    first, second = plan.installments[0], plan.installments[1]
    kwargs = {"session": session, "provider": provider, "public_base_url": "https://chat.test/", "catalog": catalog}
    payment = await service.installment_checkout(installment_id=first.id, **kwargs)  # type: ignore[arg-type]
    assert payment and payment.installment_id == first.id and payment.amount_minor == 10000
    assert payment.checkout_url == f"https://pay.test/{payment.id}"
    [request] = provider.requests
    assert request.success_url == "https://chat.test/payments/return?status=success"
    assert request.cancel_url == "https://chat.test/payments/return?status=cancel"
    assert "1" in request.description and "UK-300552" in request.description and request.locale == "en"
    # Asking again while the link is fresh hands back the same one.
    assert await service.installment_checkout(installment_id=first.id, **kwargs) is payment  # type: ignore[arg-type]
    later = await service.installment_checkout(installment_id=second.id, **kwargs)  # type: ignore[arg-type]
    assert later and later.id != payment.id and len(provider.requests) == 2
    first.status = InstallmentStatus.PAID
    assert await service.installment_checkout(installment_id=first.id, **kwargs) is None  # type: ignore[arg-type]


async def test_missed_installment_puts_the_plan_at_risk_and_paying_completes_it(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    today = service.local_today(emily)
    plan = await agree(session, emily, Proposal(Frequency.WEEKLY, today, count=3))
    amounts = [i.amount_minor for i in plan.installments]
    assert len(amounts) == 3
    first_due_over = service.end_of_day(today, emily.timezone)
    assert await service.evaluate_plans(session=session, now=first_due_over - timedelta(hours=1)) == []

    await pay(session, emily, amounts[0], "GBP")
    [review] = await service.evaluate_plans(session=session, now=first_due_over)
    assert review.status is PlanStatus.ACTIVE and review.newly_paid == (plan.installments[0].id,)

    second_due_over = service.end_of_day(today + timedelta(weeks=1), emily.timezone)
    [review] = await service.evaluate_plans(session=session, now=second_due_over)
    assert review.status is PlanStatus.AT_RISK and review.newly_missed == (plan.installments[1].id,)
    assert plan.status is PlanStatus.AT_RISK and plan.installments[1].status is InstallmentStatus.MISSED
    assert await service.evaluate_plans(session=session, now=second_due_over) == []  # nothing new

    await pay(session, emily, amounts[1] + amounts[2], "GBP")
    [review] = await service.evaluate_plans(session=session, now=second_due_over)
    assert review.status is PlanStatus.COMPLETED and plan.status is PlanStatus.COMPLETED
    assert {i.status for i in plan.installments} == {InstallmentStatus.PAID}


async def test_promise_kept_when_the_money_arrived_by_the_end_of_the_day(session: AsyncSession) -> None:
    lucas = await debtor(session, "BR-400918")
    today = service.local_today(lucas)
    promise = await service.record_promise(
        session=session, debtor_id=lucas.id, conversation_id=None, amount_minor=20000, currency="BRL",
        due_date=today, now=utcnow() - timedelta(minutes=1),
    )  # fmt: skip
    deadline = service.end_of_day(today, lucas.timezone)
    assert deadline.tzinfo is not None and deadline > utcnow()
    assert await service.evaluate_promises(session=session, now=deadline - timedelta(seconds=1)) == []
    await pay(session, lucas, 12000, "BRL")
    await pay(session, lucas, 8000, "BRL")
    assert await service.evaluate_promises(session=session, now=deadline) == [promise]
    assert promise.status is PromiseStatus.KEPT and promise.evaluated_at == deadline
    assert await service.evaluate_promises(session=session, now=deadline + timedelta(days=1)) == []


async def test_promise_broken_when_less_arrived(session: AsyncSession) -> None:
    jonas = await debtor(session, "DE-200871")
    tomorrow = service.local_today(jonas) + timedelta(days=1)
    promise = await service.record_promise(
        session=session, debtor_id=jonas.id, conversation_id=None, amount_minor=10000, currency="EUR",
        due_date=tomorrow, now=utcnow() - timedelta(minutes=1),
    )  # fmt: skip
    await pay(session, jonas, 9999, "EUR")
    deadline = service.end_of_day(tomorrow, jonas.timezone)
    [decided] = await service.evaluate_promises(session=session, now=deadline + timedelta(hours=3))
    assert decided is promise and promise.status is PromiseStatus.BROKEN


async def test_end_of_day_is_in_the_debtors_time_zone() -> None:
    day = date(2026, 12, 5)
    assert service.end_of_day(day, "America/Sao_Paulo").isoformat() == "2026-12-06T00:00:00-03:00"
    assert service.end_of_day(day, "Europe/Stockholm").isoformat() == "2026-12-06T00:00:00+01:00"


async def test_stored_plan_reads_back(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    plan = await agree(session, emily, Proposal(Frequency.MONTHLY, service.local_today(emily), count=2))
    await session.commit()
    again = await session.scalar(select(PaymentPlan).where(PaymentPlan.id == plan.id))
    assert again and again.debt_ids == [
        d.id for d in (await session.scalars(select(Debt).where(Debt.debtor_id == emily.id))).all()
    ]
    assert again.frequency is Frequency.MONTHLY and again.created_at.tzinfo is not None


async def test_no_installment_is_missed_while_collection_on_its_debt_is_paused(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    today = service.local_today(emily)
    plan = await agree(session, emily, Proposal(Frequency.WEEKLY, today, count=3))
    await holds_service.place(
        session=session, debtor_id=emily.id, reason=HoldReason.DISPUTE, debt_id=plan.debt_ids[0], source_id=1
    )
    second_due_over = service.end_of_day(today + timedelta(weeks=1), emily.timezone)
    assert await service.evaluate_plans(session=session, now=second_due_over) == []
    assert {i.status for i in plan.installments} == {InstallmentStatus.PENDING}
    # Released (the dispute was rejected): the dates that passed count again.
    await holds_service.release(session=session, reason=HoldReason.DISPUTE, source_id=1)
    [review] = await service.evaluate_plans(session=session, now=second_due_over)
    assert review.status is PlanStatus.AT_RISK and len(review.newly_missed) == 2
