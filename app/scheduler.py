"""Periodic jobs of the gateway (APScheduler): evaluate plans and promises as dates pass.

Evaluation is idempotent (it derives states from the ledger), so running it again after a
restart, or on two gateways at once, gives the same result.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings, get_settings
from channels.base import OutputChannel
from channels.outputs import build_outputs
from core.database import utcnow
from engine.conversations.pipeline import Pipeline
from money.arrangements import service as arrangements_service
from money.outreach import config as outreach_config
from money.outreach import service as outreach_service
from money.reminders import config as reminders_config
from money.reminders import service as reminders_service
from payments import notices as payment_notices
from people.gdpr import config as privacy_config
from people.gdpr import retention as gdpr_retention

log = logging.getLogger(__name__)
NOTICE_SWEEP_MINUTES = 5
OUTREACH_OFFSET = timedelta(seconds=30)


async def evaluate_arrangements(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        plans = await arrangements_service.evaluate_plans(session=session, now=utcnow())
        promises = await arrangements_service.evaluate_promises(session=session, now=utcnow())
        await session.commit()
    log.info("arrangements.evaluated", extra={"plans": len(plans), "promises": len(promises)})


async def send_payment_notices(pipeline: Pipeline) -> None:
    await payment_notices.send_owed(pipeline=pipeline)


def _every(
    scheduler: AsyncIOScheduler,
    job: Callable[..., Awaitable[object]],
    arg: object,
    *,
    every: timedelta,
    first: datetime,
    more: tuple[object, ...] = (),
) -> None:
    """One job at a fixed interval: never two runs at once, missed runs coalesced into one."""
    scheduler.add_job(
        job, "interval", seconds=every.total_seconds(), args=[arg, *more], id=job.__module__ + "." + job.__name__,
        coalesce=True, max_instances=1, next_run_time=first,
    )  # fmt: skip


def start(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    minutes: float,
    pipeline: Pipeline | None = None,
    settings: GatewaySettings | None = None,
) -> AsyncIOScheduler:
    """`pipeline`: where payment notices are sent from (the gateway's); without it, no notice sweep.
    `settings`: the provider channels reminders go out on (the environment's without it)."""
    scheduler, now = AsyncIOScheduler(timezone="UTC"), utcnow()
    chosen = settings or get_settings()

    def outputs() -> dict[str, OutputChannel]:
        return build_outputs(chosen, public_base_url=chosen.public_base_url)

    _every(scheduler, evaluate_arrangements, sessionmaker, every=timedelta(minutes=minutes), first=now)
    # Proactive reminders: plan, then send within contact hours and caps; state is in the
    # `reminders` table, so a restart carries on without sending anything twice.
    reminders_every = timedelta(minutes=reminders_config.load().every_minutes)
    _every(scheduler, reminders_service.run_scheduled, sessionmaker, every=reminders_every, first=now, more=(outputs,))
    # First contact on overdue debts (money/outreach): the cadence per jurisdiction, within the
    # reminders' contact hours and their shared cap; state in `outreach_cases`, so a restart carries on.
    # It starts a little after the reminders, so the two jobs never wait on each other's start.
    outreach_every = timedelta(minutes=outreach_config.load().every_minutes)
    _every(
        scheduler, outreach_service.run_scheduled, sessionmaker, every=outreach_every,
        first=now + OUTREACH_OFFSET, more=(outputs, chosen.public_base_url),
    )  # fmt: skip
    # GDPR storage limitation: expired transcript texts redacted daily (config/privacy.yml).
    privacy = privacy_config.load()
    _every(
        scheduler, gdpr_retention.run_scheduled, sessionmaker, every=timedelta(hours=privacy.every_hours),
        first=now + timedelta(minutes=privacy.first_run_minutes), more=(pipeline.rasa if pipeline else None,),
    )  # fmt: skip
    # Receipts whose sending failed and that no provider redelivery has sent since (a crash
    # between booking and sending, or a redelivery that never came).
    if pipeline is not None:
        notices_every = timedelta(minutes=NOTICE_SWEEP_MINUTES)
        _every(scheduler, send_payment_notices, pipeline, every=notices_every, first=now + payment_notices.CLAIM_LEASE)
    scheduler.start()
    return scheduler
