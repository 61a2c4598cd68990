"""Exactly once across restarts and parallel senders, on real committing databases (SQLite and
PostgreSQL): the gateway's own scheduler restarted with a new engine sends nothing twice; a
sender that dies between claiming and the provider call never causes a second send; four senders
and four planners at once still send each reminder once and respect the caps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import scheduler as app_scheduler
from app.config import get_settings
from channels.base import OutputChannel
from channels.outputs import build_outputs
from core.database import make_engine, make_sessionmaker
from locales import Catalog
from money.reminders import planner, sender, service
from money.reminders.config import Cap
from money.reminders.models import Reminder, ReminderStatus
from tests.conftest import SMS_NUMBER
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.money.reminders.conftest import make_debtor, make_promise, open_config, to

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
Fakes = tuple[FakeTwilio, FakeTelegram]


def outputs_from_environment() -> dict[str, OutputChannel]:
    """What the gateway's scheduler hands the reminders job (app/scheduler.py)."""
    settings = get_settings()
    return build_outputs(settings, public_base_url=settings.public_base_url)


def fresh(maker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """A new engine on the same database: what a restarted process would open."""
    url = maker.kw["bind"].url.render_as_string(hide_password=False)
    return make_sessionmaker(make_engine(url))


async def statuses(maker: async_sessionmaker[AsyncSession], debtor_ids: list[int]) -> list[ReminderStatus]:
    async with maker() as session:
        rows = await session.scalars(
            select(Reminder.status).where(Reminder.debtor_id.in_(debtor_ids)).order_by(Reminder.id)
        )
        return list(rows.all())


@pytest.fixture
def provider_env(monkeypatch: pytest.MonkeyPatch, fakes: Fakes) -> Iterator[None]:
    """The gateway's settings pointing its Twilio client at the fake, as the stack does."""
    twilio, _ = fakes
    for name, value in {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_SMS_FROM": SMS_NUMBER,
        "TWILIO_API_BASE": twilio.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(service, "load", lambda: open_config())  # hours are tested elsewhere: always open
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def wait_for(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(200):  # 20 s
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the scheduler did not settle the reminders")


async def test_restarting_the_gateway_scheduler_sends_nothing_twice(
    committed: async_sessionmaker[AsyncSession], fakes: Fakes, provider_env: None
) -> None:
    twilio, _ = fakes
    debtors = []
    for restart in range(3):
        # Something new is due before every start, so each restarted scheduler provably ran.
        today = datetime.now(UTC).date()
        async with committed() as session:
            debtor, _ = await make_debtor(session, due=today + timedelta(days=1), timezone="UTC")
            if restart == 0:
                await make_promise(session, debtor, today)
            await session.commit()
        debtors.append(debtor)
        maker = committed if restart == 0 else fresh(committed)
        scheduler = app_scheduler.start(maker, minutes=60)  # both jobs run once at start
        try:

            async def settled(maker: async_sessionmaker[AsyncSession] = maker, debtor_id: int = debtor.id) -> bool:
                found = await statuses(maker, [debtor_id])
                return bool(found) and set(found) == {ReminderStatus.SENT}

            await wait_for(settled)
        finally:
            scheduler.shutdown(wait=False)
            if maker is not committed:
                await maker.kw["bind"].dispose()
    # No caps in this test: the first debtor's two reminders (due soon, promise due) and one for
    # each later debtor, each exactly once although three schedulers ran over all of them.
    assert [len(to(twilio, d.phone)) for d in debtors] == [2, 1, 1]
    assert set(await statuses(committed, [d.id for d in debtors])) == {ReminderStatus.SENT}


async def test_the_scheduled_job_reports_what_it_did(
    committed: async_sessionmaker[AsyncSession],
    fakes: Fakes,
    provider_env: None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twilio, _ = fakes
    caplog.set_level(logging.INFO, logger="money.reminders.service")
    # Alembic's fileConfig (the migrations this fixture ran) disables loggers created before it.
    monkeypatch.setattr(logging.getLogger("money.reminders.service"), "disabled", False)
    async with committed() as session:
        debtor, _ = await make_debtor(session, due=datetime.now(UTC).date() + timedelta(days=1), timezone="UTC")
        await session.commit()
    result = await service.run_scheduled(committed, outputs_from_environment)
    assert result.planned.created >= 1 and result.counts().get("sent", 0) >= 1
    assert len(to(twilio, debtor.phone)) == 1
    [record] = [r for r in caplog.records if r.getMessage() == "reminders.run"]
    assert record.planned >= 1 and record.reminders_sent >= 1  # type: ignore[attr-defined]
    idle = await service.run_scheduled(
        committed, outputs_from_environment
    )  # nothing due: no provider clients are even built
    assert idle.outcomes == [] and len(to(twilio, debtor.phone)) == 1


async def test_a_crash_between_claim_and_send_never_sends_twice(
    committed: async_sessionmaker[AsyncSession], outputs: dict[str, OutputChannel], catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    config = open_config()
    async with committed() as session:
        debtor, _ = await make_debtor(session, due=NOW.date() + timedelta(days=1))
        await planner.plan(session=session, config=config, now=NOW)
        await session.commit()
        reminder_id = await session.scalar(select(Reminder.id).where(Reminder.debtor_id == debtor.id))
    assert reminder_id is not None
    # The process claims the reminder, commits... and dies before calling the provider.
    async with committed() as session:
        claimed = await sender.prepare(
            session=session,
            reminder_id=reminder_id,
            config=config,
            catalog=catalog,
            available=outputs,
            owner="dead-process",
            now=NOW,
        )
        await session.commit()
    assert isinstance(claimed, sender.Claimed)

    restarted = fresh(committed)
    try:
        for minutes in (1, 5, int(config.lease.total_seconds() // 60) + 1, 60 * 24):
            await service.run(
                sessionmaker=restarted,
                config=config,
                catalog=catalog,
                outputs=outputs,
                now=NOW + timedelta(minutes=minutes),
            )
        async with restarted() as session:
            row = await session.get(Reminder, reminder_id)
            assert row is not None
            assert (row.status, row.skip_reason) == (ReminderStatus.FAILED, "interrupted")
    finally:
        await restarted.kw["bind"].dispose()
    assert to(twilio, debtor.phone) == []  # at most once: a possibly delivered reminder is not repeated


async def test_parallel_planners_and_senders_send_each_reminder_once(
    committed: async_sessionmaker[AsyncSession], outputs: dict[str, OutputChannel], catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    config = open_config(caps=(Cap(max=1, window=timedelta(hours=24)),))
    async with committed() as session:
        single = [(await make_debtor(session, due=NOW.date() + timedelta(days=2)))[0] for _ in range(6)]
        busy, _ = await make_debtor(session, due=NOW.date() + timedelta(days=2))
        await make_promise(session, busy, NOW.date() + timedelta(days=1))
        await make_promise(session, busy, NOW.date())
        await session.commit()
    ids = [d.id for d in [*single, busy]]

    async def plan() -> int:
        async with committed() as session:
            result = await planner.plan(session=session, config=config, now=NOW)
            await session.commit()
            return result.created

    created = await asyncio.gather(*(plan() for _ in range(4)))
    async with committed() as session:
        planted = (await session.scalars(select(Reminder.id).where(Reminder.debtor_id.in_(ids)))).all()
    assert len(planted) == 9 and sum(created) >= 9  # seeded demo rows may be planted too; ours once each

    owners = [f"sender-{i}" for i in range(4)]
    await asyncio.gather(
        *(
            sender.send_due(sessionmaker=committed, config=config, catalog=catalog, outputs=outputs, owner=o, now=NOW)
            for o in owners
        )
    )
    for debtor in single:
        assert len(to(twilio, debtor.phone)) == 1
    assert len(to(twilio, busy.phone)) == 1  # three due at once, one per day
    # The others wait for the cap (or, the promise due today, are skipped: its day ends first).
    found = await statuses(committed, [busy.id])
    assert sorted(found) == sorted([ReminderStatus.SENT, ReminderStatus.SCHEDULED, ReminderStatus.SKIPPED])
    async with committed() as session:
        owners_used = set((await session.scalars(select(Reminder.claimed_by).where(Reminder.debtor_id.in_(ids)))).all())
    assert owners_used - {None} <= set(owners)
