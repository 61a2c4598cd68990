"""Plans and promises as events for the export back to the agency (service.activity).

A plan is agreed once (its `created_at`); its later state (completed, at risk, cancelled) is read
from its status and `updated_at`, which the evaluation moves on every change: the latest change is
what is known, not every step between two exports. A promise is made (`created_at`) and later
kept or broken (`evaluated_at`), never undone."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.activity import Happening, Window
from money.arrangements.models import PaymentPlan, PaymentPromise, PlanStatus, PromiseStatus

LATER_STATE = {PlanStatus.COMPLETED: "plan_completed", PlanStatus.AT_RISK: "plan_at_risk",
               PlanStatus.CANCELLED: "plan_cancelled"}  # fmt: skip


async def activity(*, session: AsyncSession, window: Window) -> list[Happening]:
    """Plans agreed, completed, at risk or cancelled, and promises made, kept or broken in the
    window; a plan's events are per debt it covers (the amount: the plan's total)."""
    found: list[Happening] = []
    plans = await session.scalars(
        select(PaymentPlan)
        .where(or_(window.where(PaymentPlan.created_at),
                   and_(PaymentPlan.status.in_(list(LATER_STATE)), window.where(PaymentPlan.updated_at))))
        .options(selectinload(PaymentPlan.installments))
    )  # fmt: skip
    for plan in plans.all():
        detail = f"plan:{plan.id} {plan.frequency.value} x{len(plan.installments)}" + (" hardship" * plan.hardship)
        events = [("plan_agreed", plan.created_at)] if plan.created_at in window else []
        if plan.status in LATER_STATE and plan.updated_at in window:
            events.append((LATER_STATE[plan.status], plan.updated_at))
        found += [
            Happening(at, event, plan.debtor_id, int(debt_id), plan.total_minor, plan.currency, detail=detail)
            for event, at in events
            for debt_id in plan.debt_ids or []
        ]
    promises = await session.scalars(
        select(PaymentPromise).where(
            or_(window.where(PaymentPromise.created_at),
                and_(PaymentPromise.status != PromiseStatus.PENDING, window.where(PaymentPromise.evaluated_at)))
        )
    )  # fmt: skip
    for promise in promises.all():
        events = [("promise_made", promise.created_at)] if promise.created_at in window else []
        if promise.status is not PromiseStatus.PENDING and promise.evaluated_at in window:
            events.append((f"promise_{promise.status.value}", promise.evaluated_at))  # type: ignore[arg-type]
        detail = f"promise:{promise.id} due {promise.due_date.isoformat()}"
        found += [
            Happening(at, event, promise.debtor_id, None, promise.amount_minor, promise.currency, detail=detail)
            for event, at in events
            if at is not None
        ]
    return found
