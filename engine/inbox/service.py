"""Accept inbound provider messages durably, and drain a conversation's inbox in order.

The webhook commits the event before it acknowledges the provider (nothing acknowledged is
lost); a provider retry with the same message id is recognised and not stored again. The
worker processes a conversation's events oldest first and stops at the first one that cannot
be answered yet (the bot is down), so replies never overtake each other.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from core import metrics
from core.database import READ_ONLY, utcnow
from core.pii.cards import MARKER
from engine.conversations import service as conversations_service
from engine.conversations.models import Message
from engine.conversations.pipeline import BotUnavailable, Pipeline, Recorded
from engine.inbox.models import InboundEvent, InboxStatus

log = logging.getLogger(__name__)
FIRST_BACKOFF_SECONDS = 2.0
# Hands an accepted conversation to the queue that drains it (the gateway sets `app.state.enqueue`
# to the worker's, app/worker.py): the channels accept, the queue answers.
Enqueue = Callable[[str], Awaitable[None]]


async def accept(*, session: AsyncSession, message: InboundMessage) -> InboundEvent | None:
    """Store the event (its card numbers were redacted when the InboundMessage was made); None
    when it is a provider retry."""
    conversation = await conversations_service.get_or_create(
        session=session, channel=message.channel, external_id=message.sender
    )
    event = InboundEvent(
        channel=message.channel,
        provider_message_id=message.provider_message_id,
        sender=message.sender,
        conversation_id=conversation.id,
        text=message.text,
        locale_hint=message.locale_hint,
        received_at=message.received_at,
        next_attempt_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return None
    return event


def backoff(attempts: int, *, maximum: float) -> float:
    """2 s, 4 s, 8 s … capped: patient with an outage, quick once it is over."""
    return float(min(maximum, FIRST_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)))


WAITING = (InboxStatus.PENDING, InboxStatus.ANSWERED)  # not done: the worker still has work on these


async def _next(session: AsyncSession, conversation_id: str) -> InboundEvent | None:
    return await session.scalar(
        select(InboundEvent)
        .where(InboundEvent.conversation_id == conversation_id, InboundEvent.status.in_(WAITING))
        .order_by(InboundEvent.id)
        .limit(1)
    )


async def _recorded(pipeline: Pipeline, event: InboundEvent) -> Recorded:
    """The transcript row for this event, written once even across retries."""
    if event.message_id is None:

        async def link(session: AsyncSession, message_id: int) -> None:  # in the same transaction
            stored = await session.get(InboundEvent, event.id)
            assert stored is not None
            stored.message_id = message_id

        inbound = InboundMessage(
            channel=event.channel, sender=event.sender, text=event.text, received_at=event.received_at,
            provider_message_id=event.provider_message_id, locale_hint=event.locale_hint,
        )  # fmt: skip
        return await pipeline.record(message=inbound, then=link)
    async with pipeline.sessionmaker() as session:
        await session.connection(execution_options=READ_ONLY)
        message = await session.get(Message, event.message_id)
        assert message is not None
        return Recorded(
            conversation_id=event.conversation_id,
            message_id=message.id,
            channel=event.channel,
            address=event.sender,
            locale=message.locale or pipeline.settings.default_locale,
            text=message.text,
            cards_found=MARKER in message.text,
        )


async def drain(*, pipeline: Pipeline, conversation_id: str, now: datetime | None = None) -> float | None:
    """Answer every pending event of the conversation in order. Returns seconds until the next
    attempt when something must wait (bot down, backoff), else None."""
    while True:
        async with pipeline.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)  # a read: no write lock on SQLite
            event = await _next(session, conversation_id)
        if event is None:
            return None
        current = now or utcnow()
        if event.next_attempt_at > current:
            return (event.next_attempt_at - current).total_seconds()
        recorded = await _recorded(pipeline, event)
        if event.status == InboxStatus.ANSWERED:  # answered before a crash: send what is still unsent
            replies = await pipeline.unsent_replies(conversation_id=conversation_id, after=recorded.message_id)
        else:
            try:
                replies = await pipeline.answer(
                    recorded, raise_when_down=True, then=_mark(event.id, InboxStatus.ANSWERED)
                )
            except BotUnavailable as exc:
                return await _postpone(pipeline, event.id, recorded, str(exc))
        await pipeline.deliver(conversation_id=conversation_id, replies=replies, then=_mark(event.id, InboxStatus.DONE))
        # The person's wait: from the provider's delivery to us (queue time included) to the replies sent.
        metrics.turn_finished(event.channel, (utcnow() - event.received_at).total_seconds())


def _mark(event_id: int, status: InboxStatus) -> Callable[[AsyncSession], Awaitable[None]]:
    """Move the event on, in the pipeline's own write: ANSWERED with the stored replies, DONE with
    the delivery results (no window in which a crash loses or repeats a step)."""

    async def mark(session: AsyncSession) -> None:
        stored = await session.get(InboundEvent, event_id)
        assert stored is not None
        stored.status, stored.last_error = status, None
        if status == InboxStatus.DONE:
            stored.processed_at = utcnow()

    return mark


async def _postpone(pipeline: Pipeline, event_id: int, recorded: Recorded, error: str) -> float:
    """Keep the event, retry later; tell the person once per outage that replies are delayed."""
    async with pipeline.sessionmaker() as session:
        event = await session.get(InboundEvent, event_id)
        assert event is not None
        event.attempts += 1
        delay = backoff(event.attempts, maximum=pipeline.settings.inbox_max_backoff_seconds)
        event.next_attempt_at = utcnow() + timedelta(seconds=delay)
        event.last_error = error[:500]
        first_failure = event.attempts == 1 and not await _told_recently(session, event.conversation_id, event.id)
        await session.commit()
    log.warning("inbox.postponed", extra={"event": event_id, "delay": delay})
    if first_failure:
        await pipeline.notify(conversation_id=recorded.conversation_id, key="utter_replies_delayed", arguments={})
    return delay


async def _told_recently(session: AsyncSession, conversation_id: str, event_id: int) -> bool:
    """An earlier event of this conversation is still waiting: the person was already told."""
    earlier = await session.scalar(
        select(InboundEvent.id).where(
            InboundEvent.conversation_id == conversation_id,
            InboundEvent.status == InboxStatus.PENDING,
            InboundEvent.id < event_id,
            InboundEvent.attempts > 0,
        )
    )
    return earlier is not None


async def due_conversations(*, session: AsyncSession, now: datetime | None = None) -> list[str]:
    """Conversations with an event waiting whose retry time has come (the sweeper's list)."""
    rows = await session.scalars(
        select(InboundEvent.conversation_id)
        .where(InboundEvent.status.in_(WAITING), InboundEvent.next_attempt_at <= (now or utcnow()))
        .distinct()
    )
    return list(rows.all())


async def backlog(*, session: AsyncSession, now: datetime | None = None) -> tuple[int, float]:
    """How many events wait for the worker, and how long the oldest has (seconds since the
    provider delivered it; 0 when none): the worker's lag, for /health/ready and /metrics."""
    count, oldest = (
        await session.execute(
            select(func.count(InboundEvent.id), func.min(InboundEvent.received_at)).where(
                InboundEvent.status.in_(WAITING)
            )
        )
    ).one()
    if not count or oldest is None:
        return 0, 0.0
    return int(count), max(0.0, ((now or utcnow()) - oldest).total_seconds())


__all__ = ["accept", "backlog", "backoff", "drain", "due_conversations"]
