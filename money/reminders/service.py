"""Reminders: the scheduled run (plan, then send) and what the admin page reads.

The gateway's APScheduler calls `run_scheduled` every `every_minutes` (config/reminders.yml).
All state is in the `reminders` table, so a restart simply carries on: planned rows are not
planted again (unique dedupe key) and claimed rows are never sent twice (see reminders.sender).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import OutputChannel
from core.database import utcnow
from locales import Catalog
from locales.tone.overrides import ensure_attached
from money.reminders import planner, sender
from money.reminders.config import DAYS, ReminderConfig, load
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    planned: planner.PlanResult
    outcomes: list[sender.Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts


async def plan_now(*, session: AsyncSession, config: ReminderConfig, now: datetime | None = None) -> planner.PlanResult:
    """Plant what is due (the caller commits)."""
    return await planner.plan(session=session, config=config, now=now or utcnow())


async def run(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ReminderConfig,
    catalog: Catalog,
    outputs: dict[str, OutputChannel],
    now: datetime | None = None,
    owner: str | None = None,
) -> RunResult:
    """One scheduler tick: plan, commit, then send everything due. Without any provider channel
    configured (a web-chat-only installation) nothing is sent, and nothing is skipped for it
    either: the reminders wait until a channel exists or they expire."""
    async with sessionmaker() as session:
        planned = await plan_now(session=session, config=config, now=now)
        await session.commit()
    if not outputs:
        return RunResult(planned=planned)
    outcomes = await sender.send_due(
        sessionmaker=sessionmaker, config=config, catalog=catalog, outputs=outputs, owner=owner, now=now
    )
    return RunResult(planned=planned, outcomes=outcomes)


async def run_scheduled(
    sessionmaker: async_sessionmaker[AsyncSession], make_outputs: Callable[[], dict[str, OutputChannel]]
) -> RunResult:
    """The gateway's periodic job: plan; then, only when something is due, build the provider
    clients for this run with `make_outputs` (closed after it) and send."""
    config, now = load(), utcnow()
    async with sessionmaker() as session:
        planned = await plan_now(session=session, config=config, now=now)
        await sender.recover(session=session, config=config, now=now)
        due = await sender.due_ids(session=session, config=config, now=now)
        await session.commit()
    result = RunResult(planned=planned)
    outputs = make_outputs() if due else {}
    try:
        if outputs:  # as in `run`: without any provider channel nothing is sent, nor skipped for it
            catalog = Catalog()  # the texts as they are now, with admins' edits and tone defaults
            ensure_attached(catalog, sessionmaker)
            await catalog.refresh()
            outcomes = await sender.send_due(sessionmaker=sessionmaker, config=config, catalog=catalog, outputs=outputs)
            result = RunResult(planned=planned, outcomes=outcomes)
    finally:
        for output in outputs.values():
            close = getattr(output, "aclose", None)
            if close is not None:
                await close()
    counts = {f"reminders_{status}": count for status, count in result.counts().items()}
    log.info("reminders.run", extra={"planned": planned.created, **counts})
    return result


# -- admin views ----------------------------------------------------------------------------------


def config_view(config: ReminderConfig, *, today: date | None = None) -> dict[str, Any]:
    """Per jurisdiction: contact windows, rest days, caps, and the nationwide public holidays of the
    coming year (a debtor's region may add more)."""
    today = today or utcnow().date()
    countries = {}
    for code in config.countries:
        policy = config.policy(code)
        coming = (today + timedelta(days=offset) for offset in range(366))
        countries[code] = {
            "hours": {
                DAYS[day]: [start.strftime("%H:%M"), end.strftime("%H:%M")]
                for day, (start, end) in sorted(policy.windows.items())
            },
            "closed_days": [DAYS[day] for day in range(7) if day not in policy.windows],
            "holidays": [day.isoformat() for day in coming if day in policy.holidays],
            "caps": [{"max": cap.max, "hours": cap.window.total_seconds() / 3600} for cap in policy.caps],
        }
    return {
        "every_minutes": config.every_minutes,
        "lease_minutes": config.lease.total_seconds() / 60,
        "lead_days": config.lead_days,
        "promise_broken_valid_days": config.promise_broken_valid.total_seconds() / 86400,
        "fallback_channels": list(config.fallback_channels),
        "kinds": [kind.value for kind in ReminderKind],
        "statuses": [status.value for status in ReminderStatus],
        "countries": countries,
    }


def _debtor(debtor: Debtor) -> dict[str, Any]:
    return {
        "id": debtor.id,
        "name": debtor.name,
        "reference": debtor.reference,
        "locale": debtor.locale,
        "country": jurisdiction.country_of(debtor),
        "region": debtor.region,
        "timezone": debtor.timezone,
        "preferred_channel": debtor.preferred_channel,
    }


def _row(reminder: Reminder, debtor: Debtor) -> dict[str, Any]:
    tz = planner.zone(debtor.timezone)
    return {
        "id": reminder.id,
        "debtor": _debtor(debtor),
        "kind": reminder.kind.value,
        "debt_id": reminder.debt_id,
        "subject_id": reminder.subject_id,
        "due_date": reminder.due_date.isoformat(),
        "status": reminder.status.value,
        "skip_reason": reminder.skip_reason,
        "detail": reminder.detail,
        "channel": reminder.channel,
        "conversation_id": reminder.conversation_id,
        "text_key": reminder.text_key,
        "experiment_id": reminder.experiment_id,
        "variant": reminder.variant,
        "scheduled_for": reminder.scheduled_for.isoformat(),
        "scheduled_for_local": reminder.scheduled_for.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
        "expires_at": reminder.expires_at.isoformat(),
        "attempted_at": reminder.attempted_at.isoformat() if reminder.attempted_at else None,
        "sent_at": reminder.sent_at.isoformat() if reminder.sent_at else None,
        "created_at": reminder.created_at.isoformat(),
    }


async def listing(
    *,
    session: AsyncSession,
    status: ReminderStatus | None = None,
    kind: ReminderKind | None = None,
    debtor_id: int | None = None,
    reference: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Reminders, newest plan first (upcoming ones by when they go), with the count per status."""
    query = select(Reminder, Debtor).join(Debtor, Debtor.id == Reminder.debtor_id)
    if status is not None:
        query = query.where(Reminder.status == status)
    if kind is not None:
        query = query.where(Reminder.kind == kind)
    if debtor_id is not None:
        query = query.where(Reminder.debtor_id == debtor_id)
    if reference:
        query = query.where(func.upper(Debtor.reference) == reference.strip().upper())
    order = (
        (Reminder.scheduled_for, Reminder.id)
        if status is ReminderStatus.SCHEDULED
        else (Reminder.created_at.desc(), Reminder.id.desc())
    )
    rows = (await session.execute(query.order_by(*order).limit(limit).offset(offset))).all()
    counts = dict(
        (await session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))).tuples().all()
    )
    return {
        "items": [_row(reminder, debtor) for reminder, debtor in rows],
        "counts": {s.value: int(counts.get(s, 0)) for s in ReminderStatus},
    }


async def history(*, session: AsyncSession, debtor_id: int) -> dict[str, Any] | None:
    """One debtor's reminders, all of them, newest first, with what they prefer."""
    debtor = await session.get(Debtor, debtor_id)
    if debtor is None:
        return None
    found = await listing(session=session, debtor_id=debtor_id, limit=1000)
    return {
        "debtor": _debtor(debtor),
        "items": found["items"],
    }
