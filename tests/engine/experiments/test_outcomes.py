"""Outcomes are read from the real rows (transcript, verification, ledger, plans) after each
assignment and within the experiment's window; nothing is stored as a flag."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation, Direction
from engine.experiments import outcomes, service
from engine.experiments.models import ExperimentAssignment
from engine.experiments.outcomes import Metric
from locales import Catalog
from money.arrangements.models import Frequency, PaymentPlan
from money.ledger import service as ledger_service
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from people.consent import service as consent_service
from tests.engine.experiments.conftest import MESSAGE, definition, new_debtor

DAY = timedelta(days=1)


async def _say(session: AsyncSession, conversation: Conversation, direction: Direction, at: datetime) -> None:
    message = await conversations_service.add_message(
        session=session, conversation=conversation, direction=direction, text="hello"
    )
    message.created_at = at
    await session.flush()


async def _pay(session: AsyncSession, debtor_id: int, at: datetime, key: str) -> None:
    transaction = await ledger_service.record_payment(
        session=session, key=key, payment_id=None, debtor_id=debtor_id, provider="test",  # type: ignore[arg-type]
        currency="EUR", amount_minor=2500, debts=[],
    )  # fmt: skip
    assert transaction is not None
    transaction.created_at = at
    await session.flush()


def _plan(debtor_id: int, at: datetime) -> PaymentPlan:
    return PaymentPlan(
        debtor_id=debtor_id, currency="EUR", debt_ids=[], frequency=Frequency.MONTHLY, principal_minor=10000,
        created_at=at, updated_at=at,
    )  # fmt: skip


async def test_outcomes_come_from_the_data(session: AsyncSession, catalog: Catalog) -> None:
    experiment = await service.create(session=session, catalog=catalog, definition=definition((50, 50)))
    await service.start(session=session, catalog=catalog, experiment_id=experiment.id)
    now = utcnow()
    t0 = now - 20 * DAY  # every assignment below: 20 days ago, window 7 days (closed)
    cases = {}
    for name, variant in [
        ("replies_and_verifies", "neutral"),
        ("replies_too_early_and_too_late", "neutral"),
        ("replies_by_sms", "loss_aversion"),
        ("answers_a_reminder", "loss_aversion"),
        ("pays", "loss_aversion"),
        ("pays_late_agrees_plan", "loss_aversion"),
        ("plan_before", "neutral"),
    ]:
        debtor = await new_debtor(session, name)
        session.add(
            ExperimentAssignment(experiment_id=experiment.id, debtor_id=debtor.id, variant=variant, assigned_at=t0)
        )
        cases[name] = debtor.id
    recent = await new_debtor(session, "assigned yesterday")
    session.add(
        ExperimentAssignment(experiment_id=experiment.id, debtor_id=recent.id, variant="neutral", assigned_at=now - DAY)
    )

    # Replied + verified on the web chat, inside the window.
    chat = await conversations_service.get_or_create(session=session, channel="webchat", external_id=f"s-{t0}")
    chat.debtor_id, chat.verified_at = cases["replies_and_verifies"], t0 + 2 * DAY
    await _say(session, chat, Direction.INBOUND, t0 + DAY)
    # Before the assignment, after the window, and our own outbound message: none of them is a reply.
    early = await conversations_service.get_or_create(session=session, channel="webchat", external_id=f"e-{t0}")
    early.debtor_id = cases["replies_too_early_and_too_late"]
    early.verified_at = t0 - DAY
    await _say(session, early, Direction.INBOUND, t0 - DAY)
    await _say(session, early, Direction.OUTBOUND, t0 + DAY)
    await _say(session, early, Direction.INBOUND, t0 + 8 * DAY)
    # A text message from a phone number verified earlier (the conversation has no debtor_id itself).
    phone = f"+4670{cases['replies_by_sms']:07d}"
    await consent_service.link(session=session, channel="sms", address=phone, debtor_id=cases["replies_by_sms"])
    sms = await conversations_service.get_or_create(session=session, channel="sms", external_id=phone)
    await _say(session, sms, Direction.INBOUND, t0 + 3 * DAY)
    # An answer to a reminder on a number nobody has verified yet (the reminder knows the debtor).
    reminded = await conversations_service.get_or_create(
        session=session, channel="sms", external_id=f"+4471{t0:%M%S%f}"
    )
    session.add(
        Reminder(
            debtor_id=cases["answers_a_reminder"], kind=ReminderKind.DUE_SOON, subject_id=1, due_date=(t0 + 3 * DAY).date(),
            channel="sms", conversation_id=reminded.id, text_key=MESSAGE, dedupe_key=f"xp-{reminded.id}",
            status=ReminderStatus.SENT, scheduled_for=t0, expires_at=t0 + 3 * DAY, sent_at=t0,
        )
    )  # fmt: skip
    await _say(session, reminded, Direction.INBOUND, t0 + 4 * DAY)
    # Money through the ledger; a plan.
    await _pay(session, cases["pays"], t0 + 2 * DAY, f"xp-pay-{cases['pays']}")
    await _pay(session, cases["pays_late_agrees_plan"], t0 + 9 * DAY, f"xp-late-{cases['pays_late_agrees_plan']}")
    session.add(_plan(cases["pays_late_agrees_plan"], t0 + 6 * DAY))
    session.add(_plan(cases["plan_before"], t0 - 3 * DAY))
    # The recent debtor already paid: counts, although the window is still open.
    await _pay(session, recent.id, now - DAY / 2, f"xp-recent-{recent.id}")
    await session.flush()

    assignments = (
        await session.scalars(select(ExperimentAssignment).where(ExperimentAssignment.experiment_id == experiment.id))
    ).all()
    assignment_of = {row.debtor_id: row.id for row in assignments}

    async def converted(metric: Metric) -> set[str]:
        first = await outcomes.first_occurrences(session=session, experiment_id=experiment.id, metric=metric)
        return {
            name
            for name, debtor_id in cases.items()
            if assignment_of[debtor_id] in first and first[assignment_of[debtor_id]] <= t0 + 7 * DAY
        }

    assert await converted(Metric.REPLIED) == {"replies_and_verifies", "replies_by_sms", "answers_a_reminder"}
    assert await converted(Metric.VERIFIED) == {"replies_and_verifies"}
    assert await converted(Metric.PAID) == {"pays"}
    assert await converted(Metric.PLAN_AGREED) == {"pays_late_agrees_plan"}

    found = await outcomes.results(session=session, experiment=experiment, now=now)
    assert (found.assigned, found.window_open) == (8, 1)
    table = {m: {s.key: (s.n, s.conversions) for s in stats} for m, stats in found.metrics.items()}
    assert table == {
        Metric.REPLIED: {"neutral": (4, 1), "loss_aversion": (4, 2)},
        Metric.VERIFIED: {"neutral": (4, 1), "loss_aversion": (4, 0)},
        Metric.PAID: {"neutral": (4, 1), "loss_aversion": (4, 1)},
        Metric.PLAN_AGREED: {"neutral": (4, 0), "loss_aversion": (4, 1)},
    }
    paid = found.metrics[Metric.PAID]
    assert paid[0].rate == pytest.approx(0.25) and paid[0].interval is not None
    assert not paid[0].enough_data and paid[1].comparison is None  # 4 debtors each: no verdict


async def test_results_of_an_experiment_nobody_was_assigned_to(session: AsyncSession, catalog: Catalog) -> None:
    experiment = await service.create(session=session, catalog=catalog, definition=definition())
    found = await outcomes.results(session=session, experiment=experiment)
    assert found.assigned == 0 and found.window_open == 0
    for stats in found.metrics.values():
        assert [(s.key, s.n, s.rate) for s in stats] == [
            ("neutral", 0, None),
            ("loss_aversion", 0, None),
            ("social_proof", 0, None),
        ]


async def test_real_assignments_feed_the_results(session: AsyncSession, catalog: Catalog) -> None:
    """assign() -> a reply a minute later -> counted for the debtor's own variant."""
    experiment = await service.create(session=session, catalog=catalog, definition=definition())
    await service.start(session=session, catalog=catalog, experiment_id=experiment.id)
    debtor = await new_debtor(session)
    assignment = await service.assign(session=session, message_key=MESSAGE, debtor_id=debtor.id)
    assert assignment is not None
    chat = await conversations_service.get_or_create(session=session, channel="webchat", external_id=f"r-{debtor.id}")
    chat.debtor_id = debtor.id
    await _say(session, chat, Direction.INBOUND, utcnow() + timedelta(minutes=1))
    found = await outcomes.results(session=session, experiment=experiment)
    replied = {s.key: (s.n, s.conversions) for s in found.metrics[Metric.REPLIED]}
    assert replied[assignment.variant] == (1, 1)
    assert sum(n for n, _ in replied.values()) == 1
