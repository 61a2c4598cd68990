"""Contact one debtor about their overdue debts: decide again under the debtor's row lock, then
send at most one message (or put them on a person's call list) and move their cases on.

As with reminders (money/reminders/sender.py): the contact row is written (status sending, which
the shared cap counts) and committed before the provider is called, with no transaction open
during the call; the provider's answer is recorded after. A send that dies in between stays
`sending` and is never retried: a missed first contact is better than a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Delivery, OutboundContext, OutputChannel, Reply
from channels.twilio import preview
from engine.conversations import service as conversations_service
from engine.conversations.models import Direction, Message
from engine.experiments import service as experiments_service
from handoff import service as handoff_service
from handoff.models import Reason
from locales import Catalog
from money.outreach import planner, tokens
from money.outreach.config import OutreachConfig
from money.outreach.models import ContactStatus, OutreachCase, OutreachContact
from money.reminders.config import ReminderConfig
from people.debtors.models import Debtor

log = logging.getLogger(__name__)
TEXT_KEY = "utter_outreach_first_contact"  # the neutral text; experiments run on this key
TEMPLATE_VARIABLE_LIMIT = 1000
# A step that cannot reach the person is passed over (the next step waits for its day).
PASSED = frozenset({"opted_out", "no_address", "no_whatsapp_opt_in", "sms_not_allowed", "no_sms_consent"})
# A started case stops for these (the funnel's words; see planner.STOPS).
STOPPING = frozenset(
    {"replied", "verified", "paid", "agreed", "disputed", "hold", "cadence_done", "no_cadence", "conversation"}
)


@dataclass(frozen=True)
class Claimed:
    contact_id: int
    message_id: int
    channel: str
    address: str
    text: str
    locale: str
    last_inbound_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    debtor_id: int
    status: str  # sent | failed | listed | none (nothing to send now)
    channel: str | None = None


def _case(cases: dict[int, OutreachCase], decision: planner.Decision, debtor: Debtor, now: datetime) -> OutreachCase:
    case = cases.get(decision.debt_id)
    if case is None:
        case = OutreachCase(debt_id=decision.debt_id, debtor_id=debtor.id, country=(debtor.country or "")[:2],
                            step=0, started_at=now)  # fmt: skip
        cases[decision.debt_id] = case
    return case


async def prepare(
    *,
    session: AsyncSession,
    debtor_id: int,
    config: OutreachConfig,
    contact: ReminderConfig,
    catalog: Catalog | None,
    available: Mapping[str, OutputChannel],
    base_url: str,
    now: datetime,
) -> Claimed | Outcome:
    """Decide for every open debt of the debtor, record stops and passed steps, and claim at most
    one message (or list them for a call). The caller commits."""
    debtor = await session.scalar(
        select(Debtor).where(Debtor.id == debtor_id).with_for_update().execution_options(populate_existing=True)
    )
    if debtor is None:
        return Outcome(debtor_id, "none")
    found = await planner.open_debts(session=session, debtor_ids=[debtor.id])
    debts = found[debtor.id][1] if debtor.id in found else []
    known = await planner.facts(session=session, debtor=debtor, debts=debts, now=now)
    cases = await planner.cases_of(session=session, debt_ids=[debt.id for debt in debts])
    sending: list[planner.Decision] = []
    for debt in debts:
        decision = await planner.decide(
            session=session, debtor=debtor, debt=debt, case=cases.get(debt.id), facts=known,
            config=config, contact=contact, now=now,
        )  # fmt: skip
        case = cases.get(debt.id)
        stops = decision.action == planner.SKIP and decision.reason in STOPPING
        if stops and case is not None and case.stopped_reason is None:
            case.stopped_reason, case.stopped_at = decision.reason, now
        if decision.action == planner.SKIP and decision.reason in PASSED and decision.step is not None:
            _case(cases, decision, debtor, now).step = decision.step + 1
        if decision.action == planner.SEND:
            sending.append(decision)
    for case in cases.values():
        if case.id is None:
            session.add(case)
    if not sending:
        await session.flush()
        return Outcome(debtor.id, "none")
    first = sending[0]
    chosen = [d for d in sending if d.channel == first.channel]  # one message covers them all
    if first.channel != "call_list" and first.channel not in available:
        return Outcome(debtor.id, "none", first.channel)  # no provider for it here: it waits
    for decision in chosen:
        case = _case(cases, decision, debtor, now)
        if case.id is None:
            session.add(case)
        case.step = (decision.step or 0) + 1
        case.last_contacted_at, case.last_channel, case.last_step = now, first.channel, decision.step
        case.contacted_at = case.contacted_at or now
    if first.channel == "call_list":
        await _call_list(session, debtor, first, now)
        return Outcome(debtor.id, "listed", "call_list")
    assert first.address is not None and catalog is not None  # the service builds it when a message is due
    return await _compose(session, debtor, first, [cases[d.debt_id] for d in chosen], catalog, config, base_url, now)


async def _call_list(session: AsyncSession, debtor: Debtor, decision: planner.Decision, now: datetime) -> None:
    """An entry in the agent console's queue, on the conversation of the debtor's number, with a
    callback naming the case reference: a person rings them (the messages went unanswered)."""
    phone = "".join((debtor.phone or "").split())
    conversation = await conversations_service.get_or_create(session=session, channel="sms", external_id=phone)
    conversation.locale = conversation.locale or debtor.locale
    await handoff_service.escalate(
        session=session, conversation_id=conversation.id, reason=Reason.CALL_LIST, actor="outreach",
        detail={"reference": debtor.reference}, now=now,
    )  # fmt: skip
    await handoff_service.add_callback(
        session=session, conversation_id=conversation.id, details=debtor.reference, phone=debtor.phone
    )
    session.add(
        OutreachContact(debtor_id=debtor.id, step=decision.step or 0, channel="call_list",
                        status=ContactStatus.LISTED, conversation_id=conversation.id, attempted_at=now)
    )  # fmt: skip
    await session.flush()


async def _compose(
    session: AsyncSession,
    debtor: Debtor,
    decision: planner.Decision,
    cases: list[OutreachCase],
    catalog: Catalog,
    config: OutreachConfig,
    base_url: str,
    now: datetime,
) -> Claimed:
    """The text (an experiment's variant when one runs on the first-contact text) with a fresh
    one-time link, stored as an outbound message in the conversation for this address."""
    assert decision.address is not None and decision.channel is not None
    text_key, experiment_id, variant = TEXT_KEY, None, None
    assignment = await experiments_service.assign(session=session, message_key=TEXT_KEY, debtor_id=debtor.id)
    if assignment is not None:
        text_key = assignment.text_key
        if not assignment.promoted:
            experiment_id, variant = assignment.experiment_id, assignment.variant
    contact = OutreachContact(
        debtor_id=debtor.id, step=decision.step or 0, channel=decision.channel, status=ContactStatus.SENDING,
        text_key=text_key, experiment_id=experiment_id, variant=variant, attempted_at=now,
    )  # fmt: skip
    session.add(contact)
    await session.flush()
    token = await tokens.issue(
        session=session, debtor_id=debtor.id, contact_id=contact.id, valid=config.token_valid, now=now
    )
    conversation = await conversations_service.get_or_create(
        session=session, channel=decision.channel, external_id=decision.address
    )
    conversation.locale = conversation.locale or debtor.locale
    locale = conversation.locale or debtor.locale
    text = catalog.render(text_key, locale, None, {"link": tokens.link(base_url, token, locale)}).text
    message = await conversations_service.add_message(
        session=session, conversation=conversation, direction=Direction.OUTBOUND, text=text, locale=locale, now=now
    )
    contact.conversation_id = conversation.id
    for case in cases:
        if case.experiment_id is None and case.variant is None:
            case.experiment_id, case.variant = experiment_id, variant
    await session.flush()
    return Claimed(contact.id, message.id, decision.channel, decision.address, text, locale,
                   conversation.last_inbound_at)  # fmt: skip


async def deliver(*, claimed: Claimed, outputs: Mapping[str, OutputChannel]) -> list[Delivery]:
    """The provider call (no transaction open). WhatsApp outside the 24-hour window: the approved
    "reopen" template carries the message as one line (it names no amount and no creditor)."""
    context = OutboundContext(
        locale=claimed.locale,
        last_inbound_at=claimed.last_inbound_at,
        template_variables={"1": preview(claimed.text, TEMPLATE_VARIABLE_LIMIT)},
    )
    try:
        return await outputs[claimed.channel].send(to=claimed.address, reply=Reply(claimed.text), context=context)
    except Exception as exc:  # adapters report failures as Delivery; anything else is still a failed send
        log.exception("outreach.send_error", extra={"contact_id": claimed.contact_id})
        return [Delivery(provider_message_id=None, status="failed", error=f"{type(exc).__name__}: {exc}")]


async def finish(*, session: AsyncSession, claimed: Claimed, deliveries: list[Delivery], now: datetime) -> Outcome:
    """Record what the provider said (the caller commits)."""
    failed = [d for d in deliveries if d.status == "failed"]
    contact = await session.get(OutreachContact, claimed.contact_id)
    ok = bool(deliveries) and not failed
    if contact is not None:
        contact.status = ContactStatus.SENT if ok else ContactStatus.FAILED
        contact.sent_at = now if ok else None
        if not ok:
            contact.detail = ((failed[0].error if failed else None) or "the channel accepted nothing")[:255]
    message = await session.get(Message, claimed.message_id)
    if message is not None and deliveries:
        message.provider_message_id = deliveries[-1].provider_message_id
        message.delivery_status = "failed" if failed else deliveries[-1].status
    await session.flush()
    return Outcome(contact.debtor_id if contact else 0, "sent" if ok else "failed", claimed.channel)
