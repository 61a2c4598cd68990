"""Sending through the real channel adapters to the loopback fakes (SQLite and PostgreSQL): the
preferred channel with consent, nothing about a disputed or held debt, nothing to an opted-out
channel, WhatsApp templates outside the 24-hour window, contact hours, caps, experiments."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import OutputChannel
from channels.twilio import WhatsAppTemplates, preview
from core.database import utcnow
from engine.conversations.models import Conversation, Direction, Message
from engine.experiments import service as experiments_service
from locales import Catalog
from locales.tone import service as tone_service
from locales.tone.overrides import ensure_attached
from money.arrangements.models import PromiseStatus
from money.holds import service as holds_service
from money.holds.models import HoldReason
from money.ledger import service as ledger_service
from money.reminders import service
from money.reminders.config import Cap, load
from money.reminders.models import Reminder, ReminderKind, ReminderStatus
from people.consent import service as consent_service
from people.consent.models import ChannelIdentity
from people.debtors.models import ComponentKind, Debt, DebtComponent, DebtStatus
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.money.reminders.conftest import make_debtor, make_promise, open_config, to

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday
SOON = NOW.date() + timedelta(days=2)
Fakes = tuple[FakeTwilio, FakeTelegram]


async def reminders_of(session: AsyncSession, debtor_id: int) -> list[Reminder]:
    rows = await session.scalars(
        select(Reminder)
        .where(Reminder.debtor_id == debtor_id)
        .order_by(Reminder.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    outputs: dict[str, OutputChannel],
    now: datetime = NOW,
    **config: Any,
) -> service.RunResult:
    return await service.run(
        sessionmaker=sessionmaker, config=open_config(**config), catalog=catalog, outputs=outputs, now=now
    )


async def test_sent_once_on_the_preferred_channel_disclosing_nothing(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, debt = await make_debtor(session, due=SOON, preferred="sms")
    await run(sessionmaker, catalog, outputs)
    await run(sessionmaker, catalog, outputs)  # again: nothing new
    await run(sessionmaker, catalog, outputs, now=NOW + timedelta(hours=30))

    expected = catalog.render("utter_reminder_due_soon", "en").text
    assert to(twilio, debtor.phone) == [expected]
    assert "120" not in expected and "Test Creditor" not in expected  # no amount, no creditor
    [reminder] = await reminders_of(session, debtor.id)
    assert (reminder.status, reminder.channel, reminder.kind) == (ReminderStatus.SENT, "sms", ReminderKind.DUE_SOON)
    assert reminder.sent_at == NOW and reminder.debt_id == debt.id and reminder.experiment_id is None
    # The reply continues in a conversation on that number, which is NOT linked to the debtor.
    conversation = await session.get(Conversation, reminder.conversation_id, populate_existing=True)
    assert conversation is not None and (conversation.channel, conversation.external_id) == ("sms", debtor.phone)
    assert conversation.debtor_id is None and conversation.verified_at is None and conversation.locale == "en"
    [message] = (await session.scalars(select(Message).where(Message.conversation_id == conversation.id))).all()
    assert message.direction is Direction.OUTBOUND and message.text == expected
    assert message.provider_message_id and message.provider_message_id.startswith("SM")


async def test_web_chat_preference_falls_back_to_sms_and_telegram_uses_the_linked_chat(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, telegram = fakes
    webchat, _ = await make_debtor(session, due=SOON, preferred="webchat", locale="sv", timezone="Europe/Stockholm")
    no_phone, _ = await make_debtor(session, due=SOON, preferred="webchat", phone=None)
    on_telegram, _ = await make_debtor(session, due=SOON, preferred="telegram", locale="de", timezone="Europe/Berlin")
    # Unique across both databases' runs (ids repeat there, the fake Telegram server is shared).
    chat_id = 880000000 + uuid.uuid4().int % 10**8
    session.add(ChannelIdentity(channel="telegram", address=str(chat_id), debtor_id=on_telegram.id))
    await session.flush()
    await run(sessionmaker, catalog, outputs)

    assert to(twilio, webchat.phone) == [catalog.render("utter_reminder_due_soon", "sv").text]
    [skipped] = await reminders_of(session, no_phone.id)
    assert (skipped.status, skipped.skip_reason) == (ReminderStatus.SKIPPED, "no_address")
    assert [m.text for m in telegram.sent if m.chat_id == chat_id] == [
        catalog.render("utter_reminder_due_soon", "de").text
    ]
    assert to(twilio, on_telegram.phone) == []  # Telegram reached them: no SMS as well


async def test_whatsapp_uses_the_template_outside_the_24_hour_window(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    quiet, _ = await make_debtor(session, due=SOON, preferred="whatsapp", locale="pt-BR", timezone="America/Sao_Paulo")
    chatty, _ = await make_debtor(session, due=SOON, preferred="whatsapp")
    session.add(
        Conversation(
            channel="whatsapp", external_id=chatty.phone, locale="en", last_inbound_at=utcnow() - timedelta(hours=1)
        )
    )
    await session.flush()
    await run(sessionmaker, catalog, outputs)

    text = catalog.render("utter_reminder_due_soon", "pt-BR").text
    [template] = [m for m in twilio.messages if m.to == f"whatsapp:{quiet.phone}"]
    assert template.body in (None, "") and template.content_sid == WhatsAppTemplates.load().content_sid(
        "pt-BR", "reopen"
    )
    assert template.content_variables == {"1": preview(text, 1000)} and "…" not in text  # the whole reminder
    [free_form] = [m for m in twilio.messages if m.to == f"whatsapp:{chatty.phone}"]
    assert free_form.body == catalog.render("utter_reminder_due_soon", "en").text and free_form.content_sid is None


@pytest.mark.parametrize("hold", ["dispute_hold", "disputed_status", "breathing_space", "hardship"])
async def test_disputed_or_held_debts_are_never_reminded(
    hold: str,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    outputs: dict,
    catalog: Catalog,
    fakes: Fakes,
) -> None:
    twilio, _ = fakes
    debtor, debt = await make_debtor(session, due=SOON)
    promise = await make_promise(session, debtor, NOW.date() + timedelta(days=1))
    since = NOW - timedelta(days=1)
    if hold == "dispute_hold":
        await holds_service.place(
            session=session, debtor_id=debtor.id, debt_id=debt.id, reason=HoldReason.DISPUTE, now=since
        )
    elif hold == "disputed_status":
        debt.status = DebtStatus.DISPUTED
    elif hold == "breathing_space":
        await holds_service.place(session=session, debtor_id=debtor.id, reason=HoldReason.BREATHING_SPACE, now=since)
    else:
        await holds_service.place(
            session=session,
            debtor_id=debtor.id,
            reason=HoldReason.HARDSHIP,
            ends_at=NOW + timedelta(days=30),
            now=since,
        )
    await session.flush()
    result = await run(sessionmaker, catalog, outputs)

    assert to(twilio, debtor.phone) == []
    rows = await reminders_of(session, debtor.id)
    expected = "hold:" + {"breathing_space": "breathing_space", "hardship": "hardship"}.get(hold, "dispute")
    if hold == "disputed_status":  # a disputed debt is not "due soon"; the promise still mentions it
        assert [r.kind for r in rows] == [ReminderKind.PROMISE_DUE]
    else:
        assert {r.kind for r in rows} == {ReminderKind.DUE_SOON, ReminderKind.PROMISE_DUE}
    assert all((r.status, r.skip_reason) == (ReminderStatus.SKIPPED, expected) for r in rows), rows
    assert promise.id in {r.subject_id for r in rows}
    assert not {o.reminder_id for o in result.outcomes if o.status == "sent"} & {r.id for r in rows}


async def test_opted_out_channels_are_never_used_nor_swapped(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    sms_out, _ = await make_debtor(session, due=SOON, preferred="sms")
    webchat_sms_out, _ = await make_debtor(session, due=SOON, preferred="webchat")
    whatsapp_out, _ = await make_debtor(session, due=SOON, preferred="whatsapp")
    for debtor, channel in ((sms_out, "sms"), (webchat_sms_out, "sms"), (whatsapp_out, "whatsapp")):
        await consent_service.set_opted_out(
            session=session, channel=channel, address=debtor.phone or "", opted_out=True, source="keyword:STOP"
        )
    await run(sessionmaker, catalog, outputs)

    for debtor in (sms_out, webchat_sms_out, whatsapp_out):
        assert to(twilio, debtor.phone) == [] and to(twilio, debtor.phone, "whatsapp") == []
        [row] = await reminders_of(session, debtor.id)
        assert (row.status, row.skip_reason) == (ReminderStatus.SKIPPED, "opted_out")


async def test_paid_and_decided_things_are_skipped_and_expired_ones_not_sent_late(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    paid, paid_debt = await make_debtor(session, due=SOON)
    kept, _ = await make_debtor(session, due=NOW.date() + timedelta(days=20))
    promise = await make_promise(session, kept, NOW.date() + timedelta(days=1))
    late, _ = await make_debtor(session, due=NOW.date())
    async with sessionmaker() as planning:
        await service.plan_now(session=planning, config=open_config(), now=NOW)
        await planning.commit()
    paid_debt.status = DebtStatus.PAID
    promise.status = PromiseStatus.KEPT
    await session.flush()
    await service.run(
        sessionmaker=sessionmaker, config=open_config(), catalog=catalog, outputs=outputs, now=NOW + timedelta(days=1)
    )
    assert [r.skip_reason for r in await reminders_of(session, paid.id)] == ["paid"]
    assert [r.skip_reason for r in await reminders_of(session, kept.id)] == ["paid"]
    assert [r.skip_reason for r in await reminders_of(session, late.id)] == ["expired"]
    assert all(to(twilio, d.phone) == [] for d in (paid, kept, late))


async def test_outside_contact_hours_a_reminder_waits_for_the_morning(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    evening = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # Thursday 22:00 in London, 23:00 in Stockholm
    london, _ = await make_debtor(session, due=date(2026, 12, 5))
    stockholm, _ = await make_debtor(session, due=date(2026, 12, 5), locale="sv", timezone="Europe/Stockholm")
    config = load()
    await service.run(sessionmaker=sessionmaker, config=config, catalog=catalog, outputs=outputs, now=evening)
    [waiting] = await reminders_of(session, london.id)
    assert (waiting.status, waiting.detail) == (ReminderStatus.SCHEDULED, "outside contact hours")
    assert waiting.scheduled_for == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    [waiting_sv] = await reminders_of(session, stockholm.id)
    assert waiting_sv.scheduled_for == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # 08:00 CET

    await service.run(
        sessionmaker=sessionmaker, config=config, catalog=catalog, outputs=outputs, now=waiting_sv.scheduled_for
    )
    assert len(to(twilio, stockholm.phone)) == 1 and to(twilio, london.phone) == []
    await service.run(
        sessionmaker=sessionmaker, config=config, catalog=catalog, outputs=outputs, now=waiting.scheduled_for
    )
    assert len(to(twilio, london.phone)) == 1
    assert (await reminders_of(session, london.id))[0].status is ReminderStatus.SENT


async def test_frequency_caps_count_across_kinds_defer_and_give_up_when_pointless(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, _ = await make_debtor(session, due=NOW.date() + timedelta(days=8))
    for days in (9, 10, 11):
        debt = Debt(
            debtor_id=debtor.id,
            creditor="Test Creditor",
            reference=f"TC-extra-{days}",
            currency="GBP",
            due_date=NOW.date() + timedelta(days=days),
            components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal("50.00"))],
        )
        session.add(debt)
        await session.flush()
        await ledger_service.open_debt(session=session, debt=debt, components=[("principal", Decimal("50.00"))])
    promise = await make_promise(session, debtor, NOW.date() + timedelta(days=1))
    caps = (Cap(max=1, window=timedelta(hours=24)), Cap(max=3, window=timedelta(days=7)))
    lead = {"due_soon": 12, "installment_due": 2, "promise_due": 1}

    sent_at = []
    for hours in (0, 1, 24, 25, 48, 72, 24 * 7, 24 * 7 + 1):
        result = await run(sessionmaker, catalog, outputs, now=NOW + timedelta(hours=hours), caps=caps, lead_days=lead)
        sent_at += [hours] * result.counts().get("sent", 0)
    # One a day and three a week, whatever the kind: the fourth waits for the week to roll over.
    assert sent_at == [0, 24, 48, 24 * 7]
    assert len(to(twilio, debtor.phone)) == 4
    rows = await reminders_of(session, debtor.id)
    assert sum(r.status is ReminderStatus.SENT for r in rows) == 4
    # The promise's day ended before the cap let it through: skipped, not sent late.
    [promise_row] = [r for r in rows if r.subject_id == promise.id and r.kind is ReminderKind.PROMISE_DUE]
    assert (promise_row.status, promise_row.skip_reason) == (ReminderStatus.SKIPPED, "cap_reached")


async def test_the_experiment_variant_is_sent_and_recorded(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    experiment = await experiments_service.create(
        session=session,
        catalog=catalog,
        definition=experiments_service.Definition(
            name="First reminder framing",
            message_key="utter_reminder_due_soon",
            variants=[
                experiments_service.Variant("neutral", "utter_reminder_due_soon", 34),
                experiments_service.Variant("loss_aversion", "utter_reminder_due_soon_loss_aversion", 33),
                experiments_service.Variant("social_proof", "utter_reminder_due_soon_social_proof", 33),
            ],
            outcome_days=7,
        ),
    )
    await experiments_service.start(session=session, catalog=catalog, experiment_id=experiment.id)
    debtors = [(await make_debtor(session, due=SOON))[0] for _ in range(6)]
    await session.flush()
    await run(sessionmaker, catalog, outputs)

    for debtor in debtors:
        [row] = await reminders_of(session, debtor.id)
        assert row.status is ReminderStatus.SENT and row.experiment_id == experiment.id
        assignment = await experiments_service.assign(
            session=session, message_key="utter_reminder_due_soon", debtor_id=debtor.id
        )
        assert assignment is not None and (row.variant, row.text_key) == (assignment.variant, assignment.text_key)
        assert to(twilio, debtor.phone) == [catalog.render(row.text_key, "en").text]


async def test_a_provider_refusal_is_recorded_and_not_retried(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, _ = await make_debtor(session, due=SOON)
    twilio.fail_next(1)
    await run(sessionmaker, catalog, outputs)
    await run(sessionmaker, catalog, outputs, now=NOW + timedelta(hours=1))
    [row] = await reminders_of(session, debtor.id)
    assert (row.status, row.skip_reason) == (ReminderStatus.FAILED, "provider_error")
    assert "21610" in (row.detail or "") and to(twilio, debtor.phone) == []


async def test_no_reminder_into_a_conversation_a_person_is_handling(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, _ = await make_debtor(session, due=SOON)
    session.add(Conversation(channel="sms", external_id=debtor.phone, locale="en", state="agent"))
    await session.flush()
    await run(sessionmaker, catalog, outputs)
    [row] = await reminders_of(session, debtor.id)
    assert (row.status, row.skip_reason) == (ReminderStatus.SKIPPED, "with_agent")
    assert to(twilio, debtor.phone) == []


async def test_the_tone_set_for_the_debtors_segment_is_used(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, _ = await make_debtor(session, due=SOON, locale="sv", timezone="Europe/Stockholm")
    await tone_service.set_tone(session=session, locale="sv", segment="new", tone="formal", author_id=None)
    catalog = Catalog()
    ensure_attached(catalog, sessionmaker)
    await catalog.refresh(force=True)
    await run(sessionmaker, catalog, outputs)
    formal = catalog.text("utter_reminder_due_soon", "sv", "formal")
    assert formal != catalog.text("utter_reminder_due_soon", "sv", "empathetic")
    assert to(twilio, debtor.phone) == [formal]


async def test_contact_hours_and_holidays_are_the_jurisdictions_not_the_languages(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    # 2027-01-06, a Wednesday, 10:00 UTC: Heilige Drei Könige in Bavaria, a working day in Britain.
    epiphany = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
    bavarian, _ = await make_debtor(
        session, due=date(2027, 1, 8), locale="en", timezone="Europe/Berlin", country="DE", region="BY", currency="EUR"
    )  # writes English: still Bavarian holidays
    british, _ = await make_debtor(session, due=date(2027, 1, 8), locale="de", country="GB")  # writes German
    config = load()
    await service.run(sessionmaker=sessionmaker, config=config, catalog=catalog, outputs=outputs, now=epiphany)
    [held] = await reminders_of(session, bavarian.id)
    assert (held.status, held.detail) == (ReminderStatus.SCHEDULED, "outside contact hours")
    assert held.scheduled_for == datetime(2027, 1, 7, 7, 0, tzinfo=UTC)  # Thursday 08:00 in Berlin
    assert to(twilio, bavarian.phone) == []
    assert len(to(twilio, british.phone)) == 1
    # The words are the language's: the British case gets its reminder in German.
    [sent] = await reminders_of(session, british.id)
    assert to(twilio, british.phone)[0] == catalog.render(sent.text_key, "de").text
