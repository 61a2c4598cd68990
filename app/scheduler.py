"""Periodic jobs of the gateway (APScheduler): evaluate plans and promises as dates pass.

Evaluation is idempotent (it derives states from the ledger), so running it again after a
restart, or on two gateways at once, gives the same result.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.database import utcnow
from arrangements import service as arrangements_service
from gdpr import config as privacy_config
from gdpr import retention as gdpr_retention
from reminders import config as reminders_config
from reminders import service as reminders_service

log = logging.getLogger(__name__)


async def evaluate_arrangements(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        plans = await arrangements_service.evaluate_plans(session=session, now=utcnow())
        promises = await arrangements_service.evaluate_promises(session=session, now=utcnow())
        await session.commit()
    log.info("arrangements.evaluated", extra={"plans": len(plans), "promises": len(promises)})


def start(sessionmaker: async_sessionmaker[AsyncSession], *, minutes: float) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        evaluate_arrangements,
        "interval",
        minutes=minutes,
        args=[sessionmaker],
        id="evaluate_arrangements",
        coalesce=True,
        max_instances=1,
        next_run_time=utcnow(),
    )
    # Proactive reminders: plan, then send within contact hours and caps; state is in the
    # `reminders` table, so a restart carries on without sending anything twice.
    scheduler.add_job(
        reminders_service.run_scheduled,
        "interval",
        minutes=reminders_config.load().every_minutes,
        args=[sessionmaker],
        id="reminders",
        coalesce=True,
        max_instances=1,
        next_run_time=utcnow(),
    )
    # GDPR storage limitation: expired transcript texts redacted daily (config/privacy.yml).
    privacy = privacy_config.load()
    scheduler.add_job(
        gdpr_retention.run_scheduled,
        "interval",
        hours=privacy.every_hours,
        args=[sessionmaker],
        id="gdpr_retention",
        coalesce=True,
        max_instances=1,
        next_run_time=utcnow() + timedelta(minutes=privacy.first_run_minutes),
    )
    scheduler.start()
    return scheduler
