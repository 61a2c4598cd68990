"""What became of first contacts: replied, verified, paid or agreed — kept on each case, so the
funnel survives the case stopping (a reply stops the cadence; the payment may come days later).

An outcome counts for a contact when it happens within `outcome_days` after the first contact.
A reply is any message from the person on a conversation that is theirs (their number, the web
chat the link opened, or one verified as them); paid is nothing owed on the debt any more;
agreed is a plan covering the debt or a promise made after the first contact.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from money.arrangements.models import PaymentPlan, PaymentPromise
from money.ledger import service as ledger_service
from money.outreach import planner
from money.outreach.config import OutreachConfig
from money.outreach.models import OutreachCase
from people.debtors.models import Debt, Debtor, DebtStatus

STAGES = ("contacted", "replied", "verified", "settled")


async def refresh(*, session: AsyncSession, config: OutreachConfig, now: datetime) -> int:
    """Record the outcomes that happened since the last run; the number of cases changed."""
    open_cases = (
        await session.scalars(
            select(OutreachCase).where(
                OutreachCase.contacted_at.is_not(None),
                OutreachCase.settled_at.is_(None),
                OutreachCase.contacted_at > now - config.outcome_window,
            )
        )
    ).all()
    by_debtor: dict[int, list[OutreachCase]] = defaultdict(list)
    for case in open_cases:
        by_debtor[case.debtor_id].append(case)
    changed = 0
    for debtor_id, cases in by_debtor.items():
        debtor = await session.get(Debtor, debtor_id)
        if debtor is None:
            continue
        debts = list((await session.scalars(select(Debt).where(Debt.id.in_([c.debt_id for c in cases])))).all())
        facts = await planner.facts(session=session, debtor=debtor, debts=debts, now=now)
        owed: dict[int, int] = defaultdict(int)
        for (debt_id, _), amount in (
            await ledger_service.receivables(session=session, debt_ids=[d.id for d in debts])
        ).items():
            owed[debt_id] += amount
        agreed = await _agreed(session, debtor_id)
        for case in cases:
            before = (case.replied_at, case.verified_at, case.settled_at)
            _apply(case, facts, owed.get(case.debt_id, 0), agreed, now)
            changed += before != (case.replied_at, case.verified_at, case.settled_at)
    changed += await _close_settled(session, now)
    await session.flush()
    return changed


async def _close_settled(session: AsyncSession, now: datetime) -> int:
    """Cases whose debt is no longer open (paid, closed) stop: the planner only sees open debts."""
    rows = (
        (
            await session.execute(
                select(OutreachCase, Debt.status)
                .join(Debt, Debt.id == OutreachCase.debt_id)
                .where(
                    OutreachCase.stopped_reason.is_(None), Debt.status.not_in((DebtStatus.OPEN, DebtStatus.DISPUTED))
                )
            )
        )
        .tuples()
        .all()
    )
    for case, status in rows:
        case.stopped_reason, case.stopped_at = ("paid" if status is DebtStatus.PAID else "closed"), now
    return len(rows)


async def _agreed(session: AsyncSession, debtor_id: int) -> list[tuple[datetime, list[int] | None]]:
    """When plans (with their debts) and promises (None: every debt) were made."""
    plans = await session.execute(
        select(PaymentPlan.created_at, PaymentPlan.debt_ids).where(PaymentPlan.debtor_id == debtor_id)
    )
    promises = await session.scalars(select(PaymentPromise.created_at).where(PaymentPromise.debtor_id == debtor_id))
    return [(at, list(ids or [])) for at, ids in plans.tuples().all()] + [(at, None) for at in promises.all()]


def _apply(
    case: OutreachCase, facts: planner.Facts, owed: int, agreed: list[tuple[datetime, list[int] | None]], now: datetime
) -> None:
    start = case.contacted_at
    assert start is not None
    if case.replied_at is None and facts.replied_at is not None and facts.replied_at >= start:
        case.replied_at, case.reply_step = facts.replied_at, case.last_step
    if case.verified_at is None and facts.verified_at is not None and facts.verified_at >= start:
        case.verified_at = facts.verified_at
        if case.replied_at is None:
            case.replied_at, case.reply_step = facts.verified_at, case.last_step
    made = [at for at, ids in agreed if at >= start and (ids is None or case.debt_id in ids)]
    if case.settled_at is None and (owed <= 0 or made):
        case.settled_at = min(made) if made else now


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(counts: dict[str, int]) -> dict[str, Any]:
    return {
        **{stage: counts.get(stage, 0) for stage in STAGES},
        "reply_rate": _rate(counts.get("replied", 0), counts.get("contacted", 0)),
        "settle_rate": _rate(counts.get("settled", 0), counts.get("contacted", 0)),
    }


async def funnel(
    *, session: AsyncSession, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """contacted → replied → verified → paid or agreed ("settled"), counted in debts first
    contacted in [since, until), in total, per cadence step (the last step sent before the reply,
    else the last sent; 1 is the first) and per text variant ("neutral": no experiment ran)."""
    query = select(OutreachCase).where(OutreachCase.contacted_at.is_not(None))
    if since is not None:
        query = query.where(OutreachCase.contacted_at >= since)
    if until is not None:
        query = query.where(OutreachCase.contacted_at < until)
    total: dict[str, int] = defaultdict(int)
    steps: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    variants: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for case in (await session.scalars(query)).all():
        reached = ["contacted"]
        reached += ["replied"] if case.replied_at else []
        reached += ["verified"] if case.verified_at else []
        reached += ["settled"] if case.settled_at else []
        step = (case.reply_step if case.reply_step is not None else (case.last_step or 0)) + 1
        variant = case.variant or "neutral"  # no experiment ran on the text
        for stage in reached:
            total[stage] += 1
            steps[step][stage] += 1
            variants[variant][stage] += 1
    return {
        "stages": list(STAGES),
        "total": _row(total),
        "steps": [{"step": step, **_row(counts)} for step, counts in sorted(steps.items())],
        "variants": [{"variant": name, **_row(counts)} for name, counts in sorted(variants.items())],
    }
