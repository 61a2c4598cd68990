"""Every decision the planner makes, with its reason (SQLite and PostgreSQL): send, defer for the
step's day, contact hours, a holiday and the shared cap, skip for each reason nobody is contacted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from engine.conversations.models import Conversation
from money.holds import service as holds_service
from money.holds.models import HoldReason
from money.outreach import planner
from money.outreach.models import OutreachCase
from money.reminders.config import Cap, load
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from people.consent import service as consent_service
from people.debtors.models import DebtStatus
from tests.money.outreach.conftest import NOW, OVERDUE, cadence, decisions, make_debtor
from tests.money.reminders.conftest import make_plan, make_promise


def summary(found: list) -> list[tuple[str, str | None, str]]:
    return [(d.action, d.channel, d.reason) for d in found]


async def test_an_overdue_debt_nobody_talks_about_gets_its_first_sms_now(session: AsyncSession) -> None:
    debtor, [debt] = await make_debtor(session)
    [decision] = await decisions(session, debtor)
    assert summary([decision]) == [("send", "sms", "step:0")]
    assert decision.at == NOW and decision.address == debtor.phone
    assert decision.report() == {
        "reference": debt.reference, "action": "send", "channel": "sms", "at": NOW.isoformat(), "reason": "step:0",
    }  # fmt: skip


async def test_not_overdue_and_no_cadence_are_skipped(session: AsyncSession) -> None:
    due_later, _ = await make_debtor(session, due=NOW.date() + timedelta(days=1))
    elsewhere, _ = await make_debtor(session, country="XX")
    assert summary(await decisions(session, due_later)) == [("skip", None, "not_overdue")]
    assert summary(await decisions(session, elsewhere)) == [("skip", None, "no_cadence")]


async def test_opted_out_disputed_held_planned_promised_and_talking_are_skipped(session: AsyncSession) -> None:
    opted_out, _ = await make_debtor(session)
    await consent_service.set_opted_out(
        session=session, channel="sms", address=opted_out.phone or "", opted_out=True, source="keyword:STOP"
    )
    disputed, [debt] = await make_debtor(session)
    debt.status = DebtStatus.DISPUTED
    held, _ = await make_debtor(session)
    await holds_service.place(session=session, debtor_id=held.id, reason=HoldReason.HARDSHIP, now=NOW)
    planned, [planned_debt] = await make_debtor(session)
    await make_plan(session, planned, planned_debt, NOW.date() + timedelta(days=30))
    promised, _ = await make_debtor(session)
    await make_promise(session, promised, NOW.date() + timedelta(days=5))
    talking, _ = await make_debtor(session)
    session.add(Conversation(channel="sms", external_id=talking.phone, last_inbound_at=NOW - timedelta(days=2)))
    await session.flush()

    assert summary(await decisions(session, opted_out)) == [("skip", "sms", "opted_out")]
    assert summary(await decisions(session, disputed)) == [("skip", None, "dispute")]
    assert summary(await decisions(session, held)) == [("skip", None, "hold")]
    assert summary(await decisions(session, planned)) == [("skip", None, "plan")]
    assert summary(await decisions(session, promised)) == [("skip", None, "promise")]
    assert summary(await decisions(session, talking)) == [("skip", None, "conversation")]


async def test_whatsapp_only_with_a_recorded_opt_in(session: AsyncSession) -> None:
    config = cadence(GB={"sms": "allowed", "steps": [{"day": 0, "channel": "whatsapp"}]})
    silent, _ = await make_debtor(session)
    opted_in, _ = await make_debtor(session)
    await consent_service.set_opted_out(
        session=session, channel="whatsapp", address=opted_in.phone or "", opted_out=False, source="import:1"
    )
    assert summary(await decisions(session, silent, config=config)) == [("skip", "whatsapp", "no_whatsapp_opt_in")]
    assert summary(await decisions(session, opted_in, config=config)) == [("send", "whatsapp", "step:0")]


async def test_sms_where_the_jurisdiction_allows_it(session: AsyncSession) -> None:
    config = cadence(
        DE={"sms": "consent", "steps": [{"day": 0, "channel": "sms"}]},
        FR={"sms": "never", "steps": [{"day": 0, "channel": "sms"}]},
    )
    german, _ = await make_debtor(session, country="DE", locale="de", timezone="Europe/Berlin")
    consenting, _ = await make_debtor(session, country="DE", locale="de", timezone="Europe/Berlin")
    await consent_service.set_opted_out(
        session=session, channel="sms", address=consenting.phone or "", opted_out=False, source="import:1"
    )
    french, _ = await make_debtor(session, country="FR", timezone="Europe/Paris")
    assert summary(await decisions(session, german, config=config)) == [("skip", "sms", "no_sms_consent")]
    assert summary(await decisions(session, consenting, config=config)) == [("send", "sms", "step:0")]
    assert summary(await decisions(session, french, config=config)) == [("skip", "sms", "sms_not_allowed")]


async def test_contact_hours_and_public_holidays_in_the_debtors_time_zone(session: AsyncSession) -> None:
    """The reminders' shipped rules for England: 08:00-21:00 Monday to Saturday, bank holidays off."""
    debtor, _ = await make_debtor(session)
    contact = load()
    config = cadence()

    async def at(moment: datetime) -> tuple[str, str | None, str, datetime]:
        [d] = await planner.plan(session=session, config=config, contact=contact, now=moment, debtor_ids=[debtor.id])
        return d.action, d.channel, d.reason, d.at

    late = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)  # 21:30 in London
    assert await at(late) == ("defer", "sms", "contact_hours", datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    christmas = datetime(2026, 12, 25, 11, 0, tzinfo=UTC)  # a Friday, a bank holiday
    # Boxing Day (Saturday 26th, holidays package) and its substitute Monday 28th are off too; Sunday is a rest day.
    assert await at(christmas) == ("defer", "sms", "holiday", datetime(2026, 12, 29, 8, 0, tzinfo=UTC))
    assert (await at(NOW))[:3] == ("send", "sms", "step:0")


async def test_one_cap_across_reminders_and_first_contact(session: AsyncSession) -> None:
    debtor, [debt] = await make_debtor(session)
    session.add(
        Reminder(
            debtor_id=debtor.id, debt_id=debt.id, kind=ReminderKind.DUE_SOON, subject_id=debt.id, due_date=OVERDUE,
            text_key="utter_reminder_due_soon", dedupe_key=f"test:{debt.id}", status=ReminderStatus.SENT,
            scheduled_for=NOW - timedelta(hours=2), expires_at=NOW, attempted_at=NOW - timedelta(hours=2),
        )
    )  # fmt: skip
    await session.flush()
    [decision] = await decisions(session, debtor, caps=(Cap(max=1, window=timedelta(hours=24)),))
    assert summary([decision]) == [("defer", "sms", "cap")]
    assert decision.at == NOW + timedelta(hours=22)


async def test_later_steps_wait_for_their_day(session: AsyncSession) -> None:
    debtor, [debt] = await make_debtor(session)
    session.add(OutreachCase(debt_id=debt.id, debtor_id=debtor.id, country="GB", step=2, started_at=NOW,
                             contacted_at=NOW, last_step=1))  # fmt: skip
    await session.flush()
    [waiting] = await decisions(session, debtor)
    assert (waiting.action, waiting.channel, waiting.reason, waiting.at) == (
        "defer", "sms", "next_step", NOW + timedelta(days=7),
    )  # fmt: skip
    [due] = await decisions(session, debtor, now=NOW + timedelta(days=7))
    assert summary([due]) == [("send", "sms", "step:2")]
    [late] = await decisions(session, debtor, now=NOW + timedelta(days=10))
    assert summary([late]) == [("send", "sms", "step:2")]  # step 2 not sent yet: the call comes after it
