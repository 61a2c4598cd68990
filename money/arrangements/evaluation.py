"""Whether plans and promises were honoured, judged only from the money the ledger received.

No scheduler here: the gateway calls `evaluate_plans` and `evaluate_promises` periodically
(idempotent: a second run with nothing new changes nothing) and acts on what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from money.arrangements.models import InstallmentStatus, PaymentPlan, PaymentPromise, PlanStatus, PromiseStatus
from money.holds import service as holds_service
from money.ledger import service as ledger_service
from people.debtors.models import Debtor

OPEN_PLAN = (PlanStatus.ACTIVE, PlanStatus.AT_RISK)


def end_of_day(day: date, timezone: str) -> datetime:
    """The first instant after `day` in the debtor's time zone."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(timezone))


@dataclass(frozen=True)
class PlanReview:
    plan_id: int
    status: PlanStatus
    newly_paid: tuple[int, ...]  # installment ids
    newly_missed: tuple[int, ...]


async def evaluate_plans(*, session: AsyncSession, now: datetime) -> list[PlanReview]:
    """Mark installments paid or missed from the money received since each plan started: the
    installments are covered in order by the cumulative amount paid. A due date that has ended
    (in the debtor's time zone) without cover is missed and puts the plan at risk; catching up
    returns it to active; everything covered completes it. Returns the plans that changed."""
    plans = (
        await session.scalars(
            select(PaymentPlan).where(PaymentPlan.status.in_(OPEN_PLAN)).options(selectinload(PaymentPlan.installments))
        )
    ).all()
    reviews = []
    for plan in plans:
        debtor = await session.get(Debtor, plan.debtor_id)
        assert debtor is not None
        paid = await ledger_service.paid_between(
            session=session, debtor_id=plan.debtor_id, currency=plan.currency, start=plan.created_at, end=now
        )
        newly_paid: list[int] = []
        newly_missed: list[int] = []
        changed, cumulative = False, 0
        # While collection on a debt of the plan is paused (a dispute, a hardship pause), nothing
        # is counted as missed: the debtor was told not to pay until it is resolved.
        paused = bool(
            set(plan.debt_ids or [])
            & await holds_service.paused_debt_ids(session=session, debtor_id=plan.debtor_id, now=now)
        )
        for installment in plan.installments:
            cumulative += installment.amount_minor
            if paid >= cumulative:
                status = InstallmentStatus.PAID
            elif paused and installment.status is not InstallmentStatus.MISSED:
                status = installment.status
            elif now >= end_of_day(installment.due_date, debtor.timezone):
                status = InstallmentStatus.MISSED
            else:
                status = InstallmentStatus.PENDING
            if status is installment.status:
                continue
            if status is InstallmentStatus.PAID:
                newly_paid.append(installment.id)
            elif status is InstallmentStatus.MISSED:
                newly_missed.append(installment.id)
            changed = True
            installment.status = status
            installment.paid_at = now if status is InstallmentStatus.PAID else None
        plan_status = _plan_status({i.status for i in plan.installments})
        if plan_status is plan.status and not changed:
            continue
        plan.status, plan.updated_at = plan_status, now
        reviews.append(PlanReview(plan.id, plan_status, tuple(newly_paid), tuple(newly_missed)))
    await session.flush()
    return reviews


def _plan_status(statuses: set[InstallmentStatus]) -> PlanStatus:
    if statuses == {InstallmentStatus.PAID}:
        return PlanStatus.COMPLETED
    if InstallmentStatus.MISSED in statuses:
        return PlanStatus.AT_RISK
    return PlanStatus.ACTIVE


async def evaluate_promises(*, session: AsyncSession, now: datetime) -> list[PaymentPromise]:
    """Once the promised day has ended in the debtor's time zone, a promise is kept when at
    least the promised amount arrived between making it and the end of that day, else broken.
    Returns the promises decided now."""
    rows = (
        await session.execute(
            select(PaymentPromise, Debtor.timezone)
            .join(Debtor, Debtor.id == PaymentPromise.debtor_id)
            .where(PaymentPromise.status == PromiseStatus.PENDING)
            .order_by(PaymentPromise.id)
        )
    ).all()
    decided = []
    for promise, timezone in rows:
        deadline = end_of_day(promise.due_date, timezone)
        if now < deadline:
            continue
        paid = await ledger_service.paid_between(
            session=session,
            debtor_id=promise.debtor_id,
            currency=promise.currency,
            start=promise.created_at,
            end=deadline,
        )
        promise.status = PromiseStatus.KEPT if paid >= promise.amount_minor else PromiseStatus.BROKEN
        promise.evaluated_at = now
        decided.append(promise)
    await session.flush()
    return decided
