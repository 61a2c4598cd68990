"""Collection holds: which debts may not be asked for right now (disputes, hardship pauses).

Every place that asks for money (pay now, plans, promises, installment links, reminders) asks
`paused_debt_ids` first, so a hold is honoured everywhere at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

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
