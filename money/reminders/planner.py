"""What is due, and planting it in the outbox exactly once.

`candidates` is pure: dated facts (a debt's due date, an installment, a promise) and the clock in
the debtor's own time zone decide which reminders exist. `plan` gathers the facts and inserts
each candidate with INSERT ... ON CONFLICT (dedupe_key) DO NOTHING, so running it again, after a
restart or on two gateways at once, adds nothing. Whether a planned reminder may actually be sent
(consent, holds, contact hours, caps) is decided at send time by reminders.sender, which records
why when it does not send.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from money.arrangements.evaluation import OPEN_PLAN
from money.arrangements.models import Installment, InstallmentStatus, PaymentPlan, PaymentPromise, PromiseStatus
from money.reminders.config import ReminderConfig
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from people.debtors.models import Debt, Debtor, DebtStatus


def zone(name: str | None) -> ZoneInfo:
    """The debtor's time zone; an unknown name falls back to UTC rather than stopping the run."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def base_key(kind: ReminderKind) -> str:
    """The catalog key of a kind's neutral text (also the message key experiments run on)."""
    return f"utter_reminder_{kind.value}"


@dataclass(frozen=True)
class Dated:
    """Something with a date the debtor may want reminding of."""

    kind: ReminderKind
    debtor_id: int
    subject_id: int  # debt, installment or promise id
    due_date: date
    timezone: str
    debt_id: int | None = None
    decided_at: datetime | None = None  # promise_broken: when it was judged broken


@dataclass(frozen=True)
class Candidate:
    kind: ReminderKind
    debtor_id: int
    debt_id: int | None
    subject_id: int
    due_date: date
    scheduled_for: datetime
    expires_at: datetime

    @property
    def dedupe_key(self) -> str:
        return f"{self.kind.value}:{self.subject_id}:{self.due_date.isoformat()}"


def candidates(items: Iterable[Dated], *, config: ReminderConfig, now: datetime) -> Iterator[Candidate]:
    """The reminders these facts call for now. A dated one exists from `lead_days` before its
    date until that day ends in the debtor's time zone; a broken promise for `valid_days`."""
    for item in items:
        tz = zone(item.timezone)
        if item.kind is ReminderKind.PROMISE_BROKEN:
            if item.decided_at is None:
                continue
            expires = item.decided_at + config.promise_broken_valid
        else:
            today = now.astimezone(tz).date()
            if not today <= item.due_date <= today + timedelta(days=config.lead_days[item.kind.value]):
                continue
            expires = datetime.combine(item.due_date + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
        if now >= expires:
            continue
        yield Candidate(
            kind=item.kind,
            debtor_id=item.debtor_id,
            debt_id=item.debt_id,
            subject_id=item.subject_id,
            due_date=item.due_date,
            scheduled_for=now,
            expires_at=expires,
        )


async def gather(*, session: AsyncSession, config: ReminderConfig, now: datetime) -> list[Dated]:
    """Every debt, installment and promise near its date (a day's margin either side for time
    zones; `candidates` decides exactly), and promises broken recently."""
    low = now.date() - timedelta(days=1)
    high = now.date() + timedelta(days=max(config.lead_days.values()) + 1)
    planned = {
        debt_id
        for ids in (await session.scalars(select(PaymentPlan.debt_ids).where(PaymentPlan.status.in_(OPEN_PLAN)))).all()
        for debt_id in ids or []
    }
    facts: list[Dated] = []
    debts = await session.execute(
        select(Debt.id, Debt.debtor_id, Debt.due_date, Debtor.timezone)
        .join(Debtor, Debtor.id == Debt.debtor_id)
        .where(Debt.status == DebtStatus.OPEN, Debt.due_date.between(low, high))
    )
    for debt_id, debtor_id, due, tz in debts.all():
        if debt_id not in planned:  # the plan's installments are what is due, not the debt's old date
            facts.append(Dated(ReminderKind.DUE_SOON, debtor_id, debt_id, due, tz, debt_id=debt_id))
    installments = await session.execute(
        select(Installment.id, Installment.due_date, PaymentPlan.debtor_id, PaymentPlan.debt_ids, Debtor.timezone)
        .join(PaymentPlan, PaymentPlan.id == Installment.plan_id)
        .join(Debtor, Debtor.id == PaymentPlan.debtor_id)
        .where(
            Installment.status == InstallmentStatus.PENDING,
            PaymentPlan.status.in_(OPEN_PLAN),
            Installment.due_date.between(low, high),
        )
    )
    for installment_id, due, debtor_id, debt_ids, tz in installments.all():
        only = debt_ids[0] if debt_ids and len(debt_ids) == 1 else None
        facts.append(Dated(ReminderKind.INSTALLMENT_DUE, debtor_id, installment_id, due, tz, debt_id=only))
    promises = await session.execute(
        select(PaymentPromise.id, PaymentPromise.debtor_id, PaymentPromise.due_date, Debtor.timezone)
        .join(Debtor, Debtor.id == PaymentPromise.debtor_id)
        .where(PaymentPromise.status == PromiseStatus.PENDING, PaymentPromise.due_date.between(low, high))
    )
    for promise_id, debtor_id, due, tz in promises.all():
        facts.append(Dated(ReminderKind.PROMISE_DUE, debtor_id, promise_id, due, tz))
    broken = await session.execute(
        select(
            PaymentPromise.id,
            PaymentPromise.debtor_id,
            PaymentPromise.due_date,
            PaymentPromise.evaluated_at,
            Debtor.timezone,
        )
        .join(Debtor, Debtor.id == PaymentPromise.debtor_id)
        .where(
            PaymentPromise.status == PromiseStatus.BROKEN,
            PaymentPromise.evaluated_at >= now - config.promise_broken_valid,
        )
    )
    for promise_id, debtor_id, due, decided_at, tz in broken.all():
        facts.append(Dated(ReminderKind.PROMISE_BROKEN, debtor_id, promise_id, due, tz, decided_at=decided_at))
    return facts


@dataclass(frozen=True)
class PlanResult:
    considered: int
    created: int


async def insert(*, session: AsyncSession, candidate: Candidate, now: datetime) -> bool:
    """Plant one reminder unless its dedupe key exists (race-safe on both backends)."""
    dialect = session.get_bind().dialect.name
    values = {
        "debtor_id": candidate.debtor_id,
        "debt_id": candidate.debt_id,
        "kind": candidate.kind,
        "subject_id": candidate.subject_id,
        "due_date": candidate.due_date,
        "text_key": base_key(candidate.kind),
        "dedupe_key": candidate.dedupe_key,
        "status": ReminderStatus.SCHEDULED,
        "scheduled_for": candidate.scheduled_for,
        "expires_at": candidate.expires_at,
        "created_at": now,
    }
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(Reminder).values(**values)
    result = await session.execute(statement.on_conflict_do_nothing(index_elements=["dedupe_key"]))
    return bool(getattr(result, "rowcount", 0))


async def plan(*, session: AsyncSession, config: ReminderConfig, now: datetime) -> PlanResult:
    """Plant every reminder that is due now and not planted yet. The caller commits."""
    found = list(candidates(await gather(session=session, config=config, now=now), config=config, now=now))
    created = 0
    for candidate in found:
        created += await insert(session=session, candidate=candidate, now=now)
    return PlanResult(considered=len(found), created=created)
