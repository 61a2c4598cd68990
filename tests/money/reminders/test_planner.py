"""What is due, decided in the debtor's own time zone, and planted exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from money.arrangements.models import PromiseStatus
from money.reminders import planner
from money.reminders.config import load
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from tests.money.reminders.conftest import make_debtor, make_plan, make_promise

config = load()
NOW = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # already Friday the 27th in Stockholm


def due_soon(debtor_id: int, due: date, timezone: str) -> planner.Dated:
    return planner.Dated(ReminderKind.DUE_SOON, debtor_id, debtor_id * 10, due, timezone, debt_id=debtor_id * 10)


def test_lead_time_counts_in_the_debtors_own_calendar() -> None:
    due = date(2026, 11, 30)  # lead 3 days: from the 27th
    found = list(
        planner.candidates(
            [due_soon(1, due, "Europe/Stockholm"), due_soon(2, due, "Europe/London")], config=config, now=NOW
        )
    )
    assert [c.debtor_id for c in found] == [1]
    [candidate] = found
    assert candidate.dedupe_key == "due_soon:10:2026-11-30"
    # Pointless once the due day is over where the debtor lives: midnight Stockholm time.
    assert candidate.expires_at == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


def test_nothing_for_a_past_or_far_date_and_a_broken_promise_only_for_a_while() -> None:
    items = [
        due_soon(1, date(2026, 11, 25), "Europe/London"),  # passed
        due_soon(2, date(2026, 12, 30), "Europe/London"),  # far away
        planner.Dated(ReminderKind.PROMISE_BROKEN, 3, 7, date(2026, 11, 20), "Europe/London", decided_at=NOW),
        planner.Dated(
            ReminderKind.PROMISE_BROKEN, 4, 8, date(2026, 11, 1), "Europe/London", decided_at=NOW - timedelta(days=5)
        ),
    ]
    found = list(planner.candidates(items, config=config, now=NOW))
    assert [(c.kind, c.subject_id) for c in found] == [(ReminderKind.PROMISE_BROKEN, 7)]
    assert found[0].expires_at == NOW + timedelta(days=3)


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    [candidate] = planner.candidates([due_soon(1, date(2026, 11, 28), "Mars/Olympus")], config=config, now=NOW)
    assert candidate.expires_at == datetime(2026, 11, 29, tzinfo=UTC)


async def test_plan_twice_plants_each_reminder_once(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    today = now.date()
    debtor, debt = await make_debtor(session, due=today + timedelta(days=2), timezone="UTC")
    planned_debtor, planned_debt = await make_debtor(session, due=today + timedelta(days=1), timezone="UTC")
    plan = await make_plan(session, planned_debtor, planned_debt, today + timedelta(days=1), today + timedelta(days=31))
    promise = await make_promise(session, debtor, today + timedelta(days=1))
    broken = await make_promise(session, planned_debtor, today - timedelta(days=1))
    broken.status, broken.evaluated_at = PromiseStatus.BROKEN, now - timedelta(hours=2)
    await session.flush()

    first = await planner.plan(session=session, config=config, now=now)
    second = await planner.plan(session=session, config=config, now=now)
    assert first.created >= 4 and second.created == 0 and second.considered == first.considered

    mine = (
        await session.scalars(
            select(Reminder).where(Reminder.debtor_id.in_((debtor.id, planned_debtor.id))).order_by(Reminder.id)
        )
    ).all()
    keys = {r.dedupe_key for r in mine}
    assert keys == {
        f"due_soon:{debt.id}:{debt.due_date.isoformat()}",
        f"installment_due:{plan.installments[0].id}:{plan.installments[0].due_date.isoformat()}",
        f"promise_due:{promise.id}:{promise.due_date.isoformat()}",
        f"promise_broken:{broken.id}:{broken.due_date.isoformat()}",
    }  # the planned debt's own date is not reminded: its installments are
    assert all(r.status is ReminderStatus.SCHEDULED and r.channel is None for r in mine)
    assert {r.text_key for r in mine} == {f"utter_reminder_{k.value}" for k in ReminderKind}
    installment = next(r for r in mine if r.kind is ReminderKind.INSTALLMENT_DUE)
    assert installment.debt_id == planned_debt.id


async def test_insert_is_a_no_op_for_a_known_key(session: AsyncSession) -> None:
    debtor, debt = await make_debtor(session, due=date(2026, 12, 1))
    candidate = planner.Candidate(
        kind=ReminderKind.DUE_SOON,
        debtor_id=debtor.id,
        debt_id=debt.id,
        subject_id=debt.id,
        due_date=debt.due_date,
        scheduled_for=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    assert await planner.insert(session=session, candidate=candidate, now=NOW)
    assert not await planner.insert(session=session, candidate=candidate, now=NOW)
    count = await session.scalar(select(func.count()).where(Reminder.dedupe_key == candidate.dedupe_key))
    assert count == 1
