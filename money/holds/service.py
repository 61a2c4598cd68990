"""Collection holds: which debts may not be asked for right now (disputes, hardship pauses).

Every place that asks for money (pay now, plans, promises, installment links, reminders) asks
`paused_debt_ids` first, so a hold is honoured everywhere at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.activity import Happening, Window
from core.database import utcnow
from money.holds.models import CollectionHold, HoldReason
from people.debtors.models import Debt


async def place(
    *,
    session: AsyncSession,
    debtor_id: int,
    reason: HoldReason,
    debt_id: int | None = None,
    source_id: int | None = None,
    ends_at: datetime | None = None,
    now: datetime | None = None,
) -> CollectionHold:
    """Hold one debt (or, with debt_id None, every debt of the debtor) until released or `ends_at`."""
    hold = CollectionHold(
        debtor_id=debtor_id,
        debt_id=debt_id,
        reason=reason,
        source_id=source_id,
        starts_at=now or utcnow(),
        ends_at=ends_at,
    )
    session.add(hold)
    await session.flush()
    return hold


async def release(
    *, session: AsyncSession, reason: HoldReason, source_id: int, now: datetime | None = None
) -> list[CollectionHold]:
    """Release the holds a case placed (a dispute resolved against the debtor, say)."""
    now = now or utcnow()
    holds = list(
        (
            await session.scalars(
                select(CollectionHold).where(
                    CollectionHold.reason == reason,
                    CollectionHold.source_id == source_id,
                    CollectionHold.released_at.is_(None),
                )
            )
        ).all()
    )
    for hold in holds:
        hold.released_at = now
    await session.flush()
    return holds


async def active(*, session: AsyncSession, debtor_id: int, now: datetime | None = None) -> list[CollectionHold]:
    now = now or utcnow()
    return list(
        (
            await session.scalars(
                select(CollectionHold)
                .where(
                    CollectionHold.debtor_id == debtor_id,
                    CollectionHold.released_at.is_(None),
                    CollectionHold.starts_at <= now,
                    or_(CollectionHold.ends_at.is_(None), CollectionHold.ends_at > now),
                )
                .order_by(CollectionHold.id)
            )
        ).all()
    )


async def paused_debt_ids(*, session: AsyncSession, debtor_id: int, now: datetime | None = None) -> set[int]:
    """The debtor's debts on which collection is paused right now."""
    holds = await active(session=session, debtor_id=debtor_id, now=now)
    if not holds:
        return set()
    if any(h.debt_id is None for h in holds):
        return set((await session.scalars(select(Debt.id).where(Debt.debtor_id == debtor_id))).all())
    return {h.debt_id for h in holds if h.debt_id is not None}


# Holds a debtor's hardship placed (a dispute's hold is reported as the dispute itself).
HARDSHIP_HOLDS = (HoldReason.HARDSHIP, HoldReason.BREATHING_SPACE)


def ended_at(hold: CollectionHold) -> datetime | None:
    """Released early, or run out at `ends_at`, whichever came first."""
    ends = [moment for moment in (hold.released_at, hold.ends_at) if moment is not None]
    return min(ends) if ends else None


async def activity(*, session: AsyncSession, window: Window) -> list[Happening]:
    """Hardship holds started and ended in the window; a hold that runs out ends at its `ends_at`
    (nothing is written then: the window that holds that moment reports it)."""
    holds = await session.scalars(
        select(CollectionHold).where(
            CollectionHold.reason.in_(HARDSHIP_HOLDS),
            window.where(CollectionHold.starts_at)
            | window.where(CollectionHold.released_at)
            | window.where(CollectionHold.ends_at),
        )
    )
    found = []
    for hold in holds.all():
        detail = f"hold:{hold.id} {hold.reason.value}"
        for event, at in (("hardship_hold_started", hold.starts_at), ("hardship_hold_ended", ended_at(hold))):
            if at is not None and at in window:
                found.append(Happening(at, event, hold.debtor_id, hold.debt_id, detail=detail))
    return found
