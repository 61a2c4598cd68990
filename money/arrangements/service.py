"""Plans and promises in the database: what they cover, the policy that applies, storing them
and paying installments. Keyword-only functions over an AsyncSession; the caller commits.
Judging whether they were honoured is in arrangements.evaluation (re-exported here).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.database import utcnow
from locales import Catalog
from money.arrangements.evaluation import OPEN_PLAN
from money.arrangements.evaluation import PlanReview as PlanReview  # re-exported: the scheduler's entry points
from money.arrangements.evaluation import end_of_day as end_of_day
from money.arrangements.evaluation import evaluate_plans as evaluate_plans
from money.arrangements.evaluation import evaluate_promises as evaluate_promises
from money.arrangements.history import activity as activity  # the export back (people/portfolio)
from money.arrangements.models import (
    Installment,
    InstallmentStatus,
    PaymentPlan,
    PaymentPromise,
    PlanStatus,
    PromiseStatus,
)
from money.arrangements.schedule import Decision, Terms
from money.holds import service as holds_service
from money.ledger import service as ledger_service
from money.ledger.models import TransactionKind
from money.ledger.money import from_minor, to_minor
from money.policies.service import policy_for
from payments.models import Payment, PaymentStatus
from payments.providers import CheckoutProvider
from payments.service import CollectionPaused, start_checkouts
from people.debtors import service as debtors_service
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor

# A Stripe Checkout Session expires after 24 hours: an older pending link is replaced.
LINK_REUSE = timedelta(hours=23)


@dataclass(frozen=True)
class Basis:
    """The open debts an arrangement covers, in one currency, and what is owed on them."""

    currency: str
    balance: int
    debt_ids: tuple[int, ...]
    creditors: tuple[str, ...]


async def basis(*, session: AsyncSession, debtor_id: int, exclude_planned: bool = True) -> Basis | None:
    """One currency's open debts, owed amounts from the ledger.

    Amounts in different currencies cannot be added, so an arrangement covers one currency:
    the one with the largest amount owed (in practice a debtor's debts are placed in one
    country and there is only one). Debts already in an open plan are left out for plans, so
    the other currency can get its own plan afterwards; a promise covers everything open.
    Debts on hold (disputed, a hardship pause) are never part of a plan or a promise.
    """
    paused = await holds_service.paused_debt_ids(session=session, debtor_id=debtor_id)
    debts = [d for d in await debtors_service.open_debts(session=session, debtor_id=debtor_id) if d.id not in paused]
    if exclude_planned:
        planned = await session.scalars(
            select(PaymentPlan.debt_ids).where(PaymentPlan.debtor_id == debtor_id, PaymentPlan.status.in_(OPEN_PLAN))
        )
        covered = {debt_id for ids in planned.all() for debt_id in ids}
        debts = [d for d in debts if d.id not in covered]
    owed = await ledger_service.receivables(session=session, debt_ids=[d.id for d in debts])
    per_debt: dict[int, int] = defaultdict(int)
    for (debt_id, _), amount in owed.items():
        per_debt[debt_id] += amount
    groups: dict[str, list[Debt]] = defaultdict(list)
    for debt in debts:
        if per_debt[debt.id] > 0:
            groups[debt.currency].append(debt)
    if not groups:
        return None
    totals = {currency: sum(per_debt[d.id] for d in group) for currency, group in groups.items()}
    currency = max(sorted(totals), key=lambda c: totals[c])
    chosen = groups[currency]
    return Basis(
        currency=currency,
        balance=totals[currency],
        debt_ids=tuple(d.id for d in chosen),
        creditors=tuple(dict.fromkeys(d.creditor for d in chosen)),
    )


def terms_for(*, country: str | None, basis: Basis) -> Terms:
    """The plan policy for these debts in the debtor's jurisdiction (people/jurisdiction: their
    country, never their language); with several creditors the strictest of each rule (costs: the
    highest, so what is shown before agreeing is never less than what applies)."""
    plans = [policy_for(country=country, creditor=c).plan for c in basis.creditors] or [
        policy_for(country=country).plan
    ]

    def minor(values: Iterable[Decimal]) -> int:
        return max(to_minor(v, basis.currency) for v in values)

    return Terms(
        min_installment=minor(p.min_installment for p in plans),
        max_months=min(p.max_months for p in plans),
        latest_first_date_days=min(p.latest_first_date_days for p in plans),
        token_allowed=all(p.token_payment_in_hardship for p in plans),
        token_min_installment=minor(p.token_min_installment for p in plans),
        setup_fee=minor(p.setup_fee for p in plans),
        annual_interest_rate=max(p.annual_interest_rate for p in plans),
    )


def promise_max_days(*, country: str | None, basis: Basis) -> int:
    return min(policy_for(country=country, creditor=c).promise.max_days_ahead for c in basis.creditors or [None])


def local_today(debtor: Debtor, now: datetime | None = None) -> date:
    """Dates people say ("tomorrow", "the 25th") are in their own time zone."""
    return (now or utcnow()).astimezone(ZoneInfo(debtor.timezone)).date()


async def active_plan(*, session: AsyncSession, debtor_id: int) -> PaymentPlan | None:
    return (
        await session.scalars(
            select(PaymentPlan)
            .where(PaymentPlan.debtor_id == debtor_id, PaymentPlan.status.in_(OPEN_PLAN))
            .options(selectinload(PaymentPlan.installments))
            .order_by(PaymentPlan.id)
        )
    ).first()


async def create_plan(
    *,
    session: AsyncSession,
    debtor_id: int,
    basis: Basis,
    decision: Decision,
    terms: Terms,
    conversation_id: str | None,
    hardship: bool = False,
    now: datetime | None = None,
) -> PaymentPlan:
    """Store an agreed plan and its schedule, and charge its costs to the ledger."""
    schedule = decision.schedule
    if schedule is None:
        raise ValueError("a refused proposal has no schedule to store")
    now = now or utcnow()
    plan = PaymentPlan(
        debtor_id=debtor_id,
        conversation_id=conversation_id,
        currency=basis.currency,
        debt_ids=list(basis.debt_ids),
        frequency=decision.proposal.frequency,
        principal_minor=schedule.principal,
        setup_fee_minor=schedule.fee,
        interest_minor=schedule.interest,
        annual_interest_rate=terms.annual_interest_rate,
        hardship=hardship,
        status=PlanStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        installments=[
            Installment(
                seq=line.seq,
                due_date=line.due_date,
                amount_minor=line.amount,
                principal_minor=line.principal,
                interest_minor=line.interest,
                fee_minor=line.fee,
                status=InstallmentStatus.PENDING,
            )
            for line in schedule.lines
        ],
    )
    session.add(plan)
    await session.flush()
    await _charge_costs(session, plan)
    return plan


async def _charge_costs(session: AsyncSession, plan: PaymentPlan) -> None:
    """The agreed fee and interest become owed on the plan's oldest debt, so that installments
    (which include them) are allocated to them rather than booked as overpayment, and the
    balance overview shows them (a component row is added when the debt has none of that kind)."""
    costs = {ComponentKind.FEES: plan.setup_fee_minor, ComponentKind.INTEREST: plan.interest_minor}
    costs = {kind: amount for kind, amount in costs.items() if amount > 0}
    if not costs:
        return
    debt = await session.scalar(select(Debt).where(Debt.id == plan.debt_ids[0]).options(selectinload(Debt.components)))
    assert debt is not None
    for kind, amount in costs.items():
        if not any(c.kind is kind for c in debt.components):
            debt.components.append(
                DebtComponent(kind=kind, amount=from_minor(amount, plan.currency), description=f"plan:{plan.id}")
            )
    postings = [
        ledger_service.Posting(ledger_service.RECEIVABLE, amount, debt.id, kind.value, plan.debtor_id)
        for kind, amount in costs.items()
    ]
    postings.append(
        ledger_service.Posting(ledger_service.CREDITOR, -sum(costs.values()), debt.id, None, plan.debtor_id)
    )
    await ledger_service.post(
        session=session,
        kind=TransactionKind.CHARGE,
        key=f"plan-costs:{plan.id}",
        currency=plan.currency,
        postings=postings,
    )


async def _count(session: AsyncSession, plan_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Installment.plan_id == plan_id)) or 0)


def return_urls(public_base_url: str) -> tuple[str, str]:
    base = public_base_url.rstrip("/")
    return f"{base}/payments/return?status=success", f"{base}/payments/return?status=cancel"


async def installment_checkout(
    *,
    session: AsyncSession,
    provider: CheckoutProvider,
    installment_id: int,
    public_base_url: str,
    catalog: Catalog,
    locale: str | None = None,
    tone: str | None = None,
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> Payment | None:
    """A payment link for one installment (the first at agreement, later ones when due).
    A recent unpaid link is handed back instead of a second one; None when nothing is due.
    Raises CollectionPaused when the plan covers a debt that is on hold (disputed since)."""
    now = now or utcnow()
    # Plain column access only: the objects may already be in the session without relationships.
    installment = await session.get(Installment, installment_id)
    if installment is None or installment.status is InstallmentStatus.PAID:
        return None
    plan = await session.get(PaymentPlan, installment.plan_id)
    if plan is None or plan.status not in OPEN_PLAN:
        return None
    paused = await holds_service.paused_debt_ids(session=session, debtor_id=plan.debtor_id, now=now)
    if paused & set(plan.debt_ids):
        raise CollectionPaused(paused & set(plan.debt_ids))
    pending = await session.scalar(
        select(Payment)
        .where(Payment.installment_id == installment.id, Payment.status == PaymentStatus.PENDING)
        .order_by(Payment.id.desc())
    )
    if pending is not None and pending.created_at >= now - LINK_REUSE:
        return pending
    debtor = await session.get(Debtor, plan.debtor_id)
    assert debtor is not None
    locale = locale or debtor.locale
    description = catalog.render(
        "plan_installment_description",
        locale,
        tone,
        {"number": installment.seq, "count": await _count(session, plan.id), "reference": debtor.reference},
    ).text
    success_url, cancel_url = return_urls(public_base_url)
    payments = await start_checkouts(
        session=session,
        provider=provider,
        debtor=debtor,
        debt_ids=list(plan.debt_ids),
        conversation_id=conversation_id or plan.conversation_id,
        locale=locale,
        descriptions={plan.currency: description},
        success_url=success_url,
        cancel_url=cancel_url,
        amount_minor=installment.amount_minor,
        installment_id=installment.id,
    )
    return next((p for p in payments if p.currency == plan.currency), None)


async def record_promise(
    *,
    session: AsyncSession,
    debtor_id: int,
    conversation_id: str | None,
    amount_minor: int,
    currency: str,
    due_date: date,
    now: datetime | None = None,
) -> PaymentPromise:
    promise = PaymentPromise(
        debtor_id=debtor_id,
        conversation_id=conversation_id,
        amount_minor=amount_minor,
        currency=currency,
        due_date=due_date,
        status=PromiseStatus.PENDING,
        created_at=now or utcnow(),
    )
    session.add(promise)
    await session.flush()
    return promise
