"""Send due reminders at most once each, whatever crashes or runs in parallel.

Per reminder, one short transaction (`prepare`) locks the debtor, runs the guards (reminders.guards),
the contact window of the debtor's jurisdiction (in their time zone, their public holidays) and the
frequency cap, and either skips it (with the reason), defers it
(moves `scheduled_for`), or claims it: a compare-and-set scheduled -> sending naming this sender,
together with the experiment variant, the conversation and the stored outbound message. Only after
that commit is the provider called, with no transaction open; then `finish` records sent or failed.

Exactly-once is in fact at-most-once, on purpose: a sender that dies between claiming and the
provider's answer leaves the row in `sending`; after the lease (config `lease_minutes`) it is marked
failed ("interrupted") and never retried, because the provider may already have delivered it. A
missed reminder is better than a duplicate. Two senders cannot both claim one row (the update only
matches status = scheduled), and caps are counted under the debtor's row lock, so two reminders of
one debtor sent at once cannot both slip under a cap.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import Delivery, OutboundContext, OutputChannel, Reply
from channels.twilio import preview
from core.database import utcnow
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation, Direction, Message
from engine.experiments import service as experiments_service
from locales import Catalog
from locales.tone import segments as tone_segments
from money.reminders import guards
from money.reminders.config import ReminderConfig
from money.reminders.models import Reminder, ReminderStatus
from people.debtors.models import Debtor

log = logging.getLogger(__name__)
TEMPLATE_VARIABLE_LIMIT = 1000  # WhatsApp caps a template variable at 1024 characters


def sender_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claimed:
    """A reminder this sender owns: everything needed to call the provider outside a transaction."""

    reminder_id: int
    message_id: int
    channel: str
    address: str
    text: str
    locale: str
    last_inbound_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    reminder_id: int
    status: str  # sent | failed | skipped | deferred | taken (another sender has it)
    reason: str | None = None


async def recover(*, session: AsyncSession, config: ReminderConfig, now: datetime) -> int:
    """Sends interrupted longer than the lease ago become failed, never retried (see module doc)."""
    result = await session.execute(
        update(Reminder)
        .where(Reminder.status == ReminderStatus.SENDING, Reminder.attempted_at < now - config.lease)
        .values(
            status=ReminderStatus.FAILED,
            skip_reason="interrupted",
            detail="the sender stopped before the provider answered; not retried (it may have been delivered)",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def due_ids(*, session: AsyncSession, config: ReminderConfig, now: datetime) -> list[int]:
    rows = await session.scalars(
        select(Reminder.id)
        .where(Reminder.status == ReminderStatus.SCHEDULED, Reminder.scheduled_for <= now)
        .order_by(Reminder.scheduled_for, Reminder.id)
        .limit(config.batch_size)
    )
    return list(rows.all())


def _skip(reminder: Reminder, reason: str, detail: str | None = None) -> Outcome:
    reminder.status, reminder.skip_reason, reminder.detail = ReminderStatus.SKIPPED, reason, detail
    return Outcome(reminder.id, "skipped", reason)


def _defer(reminder: Reminder, until: datetime, detail: str) -> Outcome:
    reminder.scheduled_for, reminder.detail = until, detail
    return Outcome(reminder.id, "deferred", detail)


async def prepare(
    *,
    session: AsyncSession,
    reminder_id: int,
    config: ReminderConfig,
    catalog: Catalog,
    available: Mapping[str, OutputChannel],
    owner: str,
    now: datetime,
) -> Claimed | Outcome:
    """Decide about one due reminder and, if it goes, claim it. The caller commits."""
    debtor_id = await session.scalar(select(Reminder.debtor_id).where(Reminder.id == reminder_id))
    if debtor_id is None:
        return Outcome(reminder_id, "taken")
    # The debtor's row lock serialises every sender working on this debtor (PostgreSQL; SQLite
    # already has a single writer): the cap below cannot be raced.
    debtor = await session.scalar(
        select(Debtor).where(Debtor.id == debtor_id).with_for_update().execution_options(populate_existing=True)
    )
    reminder = await session.scalar(
        select(Reminder)
        .where(Reminder.id == reminder_id, Reminder.status == ReminderStatus.SCHEDULED)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if debtor is None or reminder is None or reminder.scheduled_for > now:
        return Outcome(reminder_id, "taken")
    if now >= reminder.expires_at:
        return _skip(reminder, "expired")
    debt_ids, reason = await guards.subject_debts(session=session, reminder=reminder)
    reason = reason or await guards.money_reason(session=session, reminder=reminder, debt_ids=debt_ids, now=now)
    if reason:
        return _skip(reminder, reason)
    route = await guards.route(session=session, debtor=debtor, available=available, fallbacks=config.fallback_channels)
    if isinstance(route, str):
        return _skip(reminder, route)
    state = await session.scalar(
        select(Conversation.state).where(
            Conversation.channel == route.channel, Conversation.external_id == route.address
        )
    )
    if state not in (None, "bot"):
        return _skip(reminder, "with_agent", "a person is handling the conversation on that channel")
    policy = config.policy_of(debtor)  # the debtor's jurisdiction and region, never their language
    opens = guards.next_contact(debtor=debtor, when=now, config=config)
    if opens is None or opens >= reminder.expires_at:
        return _skip(reminder, "expired", "no allowed contact time before it lost its point")
    if opens > now:
        return _defer(reminder, opens, "outside contact hours")
    free_at = await guards.cap_free_at(session=session, debtor_id=debtor.id, caps=policy.caps, now=now)
    if free_at is not None:
        opens = guards.next_contact(debtor=debtor, when=free_at, config=config)
        if opens is None or opens >= reminder.expires_at:
            return _skip(reminder, "cap_reached", "frequency cap until it lost its point")
        return _defer(reminder, opens, "frequency cap")
    claimed = await session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.SCHEDULED)
        .values(status=ReminderStatus.SENDING, claimed_by=owner, attempted_at=now, channel=route.channel)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return Outcome(reminder.id, "taken")
    return await _compose(session, reminder, debtor, route, catalog, now)


async def _compose(
    session: AsyncSession, reminder: Reminder, debtor: Debtor, route: guards.Route, catalog: Catalog, now: datetime
) -> Claimed:
    """The text (an experiment's variant when one runs on this message), stored as an outbound
    message in the conversation for this address, so a reply continues there. The conversation
    is not linked to the debtor: whoever answers must verify before anything is disclosed."""
    text_key = reminder.text_key
    assignment = await experiments_service.assign(session=session, message_key=text_key, debtor_id=debtor.id)
    experiment_id = variant = None
    if assignment is not None:
        text_key = assignment.text_key
        if not assignment.promoted:  # a promoted winner is not part of the experiment's results
            experiment_id, variant = assignment.experiment_id, assignment.variant
    conversation = await conversations_service.get_or_create(
        session=session, channel=route.channel, external_id=route.address
    )
    if conversation.locale is None:
        conversation.locale = debtor.locale
    locale = conversation.locale or debtor.locale
    tone = None  # the locale's default, unless a tone is set for one of the debtor's segments
    if catalog.segment_tones(locale):
        tone = catalog.segment_tone(
            locale, await tone_segments.segments_of_debtor(session=session, debtor_id=debtor.id)
        )
    text = catalog.render(text_key, locale, tone).text
    message = await conversations_service.add_message(
        session=session, conversation=conversation, direction=Direction.OUTBOUND, text=text, locale=locale, now=now
    )
    await session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id)
        .values(
            text_key=text_key,
            experiment_id=experiment_id,
            variant=variant,
            conversation_id=conversation.id,
            detail=None,
        )
        .execution_options(synchronize_session=False)
    )
    return Claimed(
        reminder_id=reminder.id,
        message_id=message.id,
        channel=route.channel,
        address=route.address,
        text=text,
        locale=locale,
        last_inbound_at=conversation.last_inbound_at,
    )


async def finish(
    *, session: AsyncSession, claimed: Claimed, owner: str, deliveries: list[Delivery], now: datetime
) -> Outcome:
    """Record what the provider said. Matches on the owner, not the status: a send that outlived
    its lease and was marked interrupted is still recorded truthfully as sent."""
    failed = [d for d in deliveries if d.status == "failed"]
    error: str | None = None
    values: dict[str, object]
    if failed or not deliveries:
        error = ((failed[0].error if failed else None) or "the channel accepted nothing")[:255]
        values = {"status": ReminderStatus.FAILED, "skip_reason": "provider_error", "detail": error}
    else:
        values = {"status": ReminderStatus.SENT, "sent_at": now, "skip_reason": None, "detail": None}
    await session.execute(
        update(Reminder)
        .where(Reminder.id == claimed.reminder_id, Reminder.claimed_by == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    message = await session.get(Message, claimed.message_id)
    if message is not None and deliveries:
        message.provider_message_id = deliveries[-1].provider_message_id
        message.delivery_status = "failed" if failed else deliveries[-1].status
    return Outcome(claimed.reminder_id, "sent" if error is None else "failed", error)


async def send_one(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    reminder_id: int,
    config: ReminderConfig,
    catalog: Catalog,
    outputs: Mapping[str, OutputChannel],
    owner: str,
    now: datetime | None = None,
) -> Outcome:
    at = now or utcnow()
    async with sessionmaker() as session:
        decided = await prepare(
            session=session,
            reminder_id=reminder_id,
            config=config,
            catalog=catalog,
            available=outputs,
            owner=owner,
            now=at,
        )
        await session.commit()
    if isinstance(decided, Outcome):
        return decided
    context = OutboundContext(
        locale=decided.locale,
        last_inbound_at=decided.last_inbound_at,
        # WhatsApp outside the 24-hour window: the approved "reopen" template carries the whole
        # reminder (it is short and discloses nothing), as one line.
        template_variables={"1": preview(decided.text, TEMPLATE_VARIABLE_LIMIT)},
    )
    try:
        deliveries = await outputs[decided.channel].send(to=decided.address, reply=Reply(decided.text), context=context)
    except Exception as exc:  # adapters report failures as Delivery; anything else is still a failed send
        log.exception("reminders.send_error", extra={"reminder_id": reminder_id})
        deliveries = [Delivery(provider_message_id=None, status="failed", error=f"{type(exc).__name__}: {exc}")]
    async with sessionmaker() as session:
        outcome = await finish(
            session=session, claimed=decided, owner=owner, deliveries=deliveries, now=utcnow() if now is None else at
        )
        await session.commit()
    return outcome


async def send_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ReminderConfig,
    catalog: Catalog,
    outputs: Mapping[str, OutputChannel],
    owner: str | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Recover interrupted sends, then handle every reminder due by `now`, one at a time."""
    owner = owner or sender_id()
    now = now or utcnow()
    async with sessionmaker() as session:
        await recover(session=session, config=config, now=now)
        ids = await due_ids(session=session, config=config, now=now)
        await session.commit()
    return [
        await send_one(
            sessionmaker=sessionmaker,
            reminder_id=reminder_id,
            config=config,
            catalog=catalog,
            outputs=outputs,
            owner=owner,
            now=now,
        )
        for reminder_id in ids
    ]
