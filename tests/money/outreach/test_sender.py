"""Sending first contact through the real Twilio adapter to the loopback fake (SQLite and
PostgreSQL): the text in the debtor's language with a one-time link and no amount or creditor,
the cadence moving on (a WhatsApp step without opt-in passed over, a call-list entry last), the
shared cap, and the stops: a reply, a promise, a dispute."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import OutputChannel
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation, Direction, Message
from handoff.models import CallbackRequest, Handoff, Reason
from locales import Catalog
from money.outreach import service
from money.outreach.models import ContactStatus, OutreachContact
from money.reminders import guards
from money.reminders.config import Cap
from people.debtors.models import DebtStatus
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.money.outreach.conftest import BASE_URL, NOW, cadence, cases, make_debtor
from tests.money.reminders.conftest import make_promise, open_config, to

Fakes = tuple[FakeTwilio, FakeTelegram]
LINK = re.compile(re.escape(BASE_URL) + r"/\?lang=([a-zA-Z-]+)#t=([A-Za-z0-9_-]{40,})")


async def run(session: AsyncSession, outputs: dict[str, OutputChannel], catalog: Catalog, days: float = 0, **contact):
    return await service.run(
        session=session, now=NOW + timedelta(days=days), outputs=outputs, base_url=BASE_URL, catalog=catalog,
        config=cadence(), contact=open_config(**contact),
    )  # fmt: skip


async def contacts(session: AsyncSession, debtor_id: int) -> list[OutreachContact]:
    rows = await session.scalars(
        select(OutreachContact)
        .where(OutreachContact.debtor_id == debtor_id)
        .order_by(OutreachContact.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def test_first_sms_in_their_language_with_a_link_and_nothing_disclosed(
    session: AsyncSession, outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, [debt] = await make_debtor(session, locale="sv", amount="4321.00")
    await run(session, outputs, catalog)
    await run(session, outputs, catalog)  # again the same minute: nothing new

    [body] = to(twilio, debtor.phone)
    assert "4321" not in body and "4 321" not in body and "Hidden Creditor" not in body and debt.reference not in body
    assert body.startswith("Hej") and "STOPP" in body  # Swedish, the debtor's language
    link = LINK.search(body)
    assert link is not None and link.group(1) == "sv"
    [contact] = await contacts(session, debtor.id)
    assert (contact.status, contact.channel, contact.step, contact.sent_at) == (ContactStatus.SENT, "sms", 0, NOW)
    [case] = await cases(session, debtor)
    assert (case.step, case.contacted_at, case.last_step, case.stopped_reason) == (1, NOW, 0, None)
    conversation = await session.get(Conversation, contact.conversation_id, populate_existing=True)
    assert conversation is not None and (conversation.channel, conversation.external_id) == ("sms", debtor.phone)
    assert conversation.debtor_id is None  # whoever answers verifies first
    [message] = (await session.scalars(select(Message).where(Message.conversation_id == conversation.id))).all()
    assert message.direction is Direction.OUTBOUND and message.text == body and message.provider_message_id


async def test_the_cadence_passes_whatsapp_without_opt_in_and_ends_on_the_call_list(
    session: AsyncSession, outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, _ = await make_debtor(session)
    await run(session, outputs, catalog)  # day 0: SMS
    await run(session, outputs, catalog, days=3)  # day 3: WhatsApp, but no opt-in: passed over
    assert to(twilio, debtor.phone, "whatsapp") == [] and len(to(twilio, debtor.phone)) == 1
    await run(session, outputs, catalog, days=7)  # day 7: SMS
    await run(session, outputs, catalog, days=10)  # day 10: a person's call list
    assert len(to(twilio, debtor.phone)) == 2
    assert [(c.step, c.channel, c.status) for c in await contacts(session, debtor.id)] == [
        (0, "sms", ContactStatus.SENT), (2, "sms", ContactStatus.SENT), (3, "call_list", ContactStatus.LISTED),
    ]  # fmt: skip
    [listed] = [c for c in await contacts(session, debtor.id) if c.channel == "call_list"]
    handoff = await session.scalar(select(Handoff).where(Handoff.conversation_id == listed.conversation_id))
    assert handoff is not None and handoff.reason is Reason.CALL_LIST
    callback = await session.scalar(
        select(CallbackRequest).where(CallbackRequest.conversation_id == listed.conversation_id)
    )
    assert callback is not None and (callback.phone, callback.details) == (debtor.phone, debtor.reference)
    await run(session, outputs, catalog, days=11)
    [case] = await cases(session, debtor)
    assert case.stopped_reason == "cadence_done"


async def test_a_reply_stops_it(session: AsyncSession, outputs: dict, catalog: Catalog, fakes: Fakes) -> None:
    twilio, _ = fakes
    debtor, _ = await make_debtor(session)
    await run(session, outputs, catalog)
    conversation = await conversations_service.get_or_create(
        session=session, channel="sms", external_id=debtor.phone or ""
    )
    await conversations_service.add_message(
        session=session, conversation=conversation, direction=Direction.INBOUND, text="who is this?",
        now=NOW + timedelta(hours=1),
    )  # fmt: skip
    conversation.last_inbound_at = NOW + timedelta(hours=1)  # as the pipeline records an inbound message
    await run(session, outputs, catalog, days=7)
    assert len(to(twilio, debtor.phone)) == 1
    [case] = await cases(session, debtor)
    assert case.stopped_reason == "replied" and case.replied_at == NOW + timedelta(hours=1) and case.reply_step == 0


async def test_a_promise_or_a_dispute_stops_it(
    session: AsyncSession, outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    promising, _ = await make_debtor(session)
    disputing, [debt] = await make_debtor(session)
    await run(session, outputs, catalog)
    await make_promise(session, promising, NOW.date() + timedelta(days=9))
    debt.status = DebtStatus.DISPUTED
    await session.flush()
    await run(session, outputs, catalog, days=7)
    assert len(to(twilio, promising.phone)) == 1 and len(to(twilio, disputing.phone)) == 1
    assert [c.stopped_reason for c in await cases(session, promising)] == ["agreed"]
    assert [c.stopped_reason for c in await cases(session, disputing)] == ["disputed"]


async def test_first_contact_counts_against_the_reminders_cap(
    session: AsyncSession, outputs: dict, catalog: Catalog, fakes: Fakes
) -> None:
    twilio, _ = fakes
    debtor, _ = await make_debtor(session, debts=2)
    caps = (Cap(max=1, window=timedelta(hours=24)),)
    await run(session, outputs, catalog, caps=caps)
    assert len(to(twilio, debtor.phone)) == 1  # one message for both debts
    assert [c.step for c in await cases(session, debtor)] == [1, 1]
    free_at = await guards.cap_free_at(session=session, debtor_id=debtor.id, caps=caps, now=NOW + timedelta(hours=1))
    assert free_at == NOW + timedelta(hours=24)  # a reminder now would wait for the same budget
