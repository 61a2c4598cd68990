"""Conversation and transcript persistence. Keyword-only functions over an AsyncSession."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations.models import Conversation, Direction, Message
from people.debtors.models import Debtor


async def get(*, session: AsyncSession, conversation_id: str) -> Conversation | None:
    return await session.get(Conversation, conversation_id)


async def get_or_create(*, session: AsyncSession, channel: str, external_id: str) -> Conversation:
    """The conversation for this channel address, created on first contact (race-safe)."""
    query = select(Conversation).where(Conversation.channel == channel, Conversation.external_id == external_id)
    conversation = await session.scalar(query)
    if conversation:
        return conversation
    conversation = Conversation(channel=channel, external_id=external_id)
    try:
        async with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        found = await session.scalar(query)
        assert found is not None
        return found
    return conversation


async def ensure(*, session: AsyncSession, conversation_id: str, channel: str = "rasa") -> Conversation:
    """The conversation with this id; one talking to Rasa directly gets a record too."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation:
        return conversation
    conversation = Conversation(id=conversation_id, channel=channel, external_id=conversation_id)
    session.add(conversation)
    await session.flush()
    return conversation


async def unsent_outbound(*, session: AsyncSession, conversation_id: str, after: int) -> list[Message]:
    """Outbound messages after message id `after` that no channel has taken yet (no provider id,
    no delivery status), oldest first."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.id > after,
            Message.direction == Direction.OUTBOUND,
            Message.provider_message_id.is_(None),
            Message.delivery_status.is_(None),
        )
        .order_by(Message.id)
    )
    return list(rows.all())


async def add_message(
    *,
    session: AsyncSession,
    conversation: Conversation,
    direction: Direction,
    text: str,
    locale: str | None = None,
    detected_language: str | None = None,
    language_confidence: float | None = None,
    intent: str | None = None,
    confidence: float | None = None,
    distress_score: float | None = None,
    signals: dict[str, Any] | None = None,
    agent_id: int | None = None,
    now: datetime | None = None,
) -> Message:
    now = now or utcnow()
    message = Message(
        conversation_id=conversation.id,
        direction=direction,
        channel=conversation.channel,
        text=text,
        locale=locale,
        detected_language=detected_language,
        language_confidence=language_confidence,
        intent=intent,
        confidence=confidence,
        distress_score=distress_score,
        signals=signals,
        agent_id=agent_id,
        created_at=now,
    )
    session.add(message)
    conversation.last_message_at = now
    await session.flush()
    return message


async def record_delivery(*, session: AsyncSession, provider_message_id: str, status: str) -> int:
    """A provider's delivery report (delivered, undelivered:30007 …) on the message it sent;
    how many rows matched (0: not ours, or erased since)."""
    result = await session.execute(
        update(Message).where(Message.provider_message_id == provider_message_id).values(delivery_status=status[:32])
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def last_outbound_at(*, session: AsyncSession, conversation_id: str) -> datetime | None:
    return await session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation_id, Message.direction == Direction.OUTBOUND
        )
    )


async def transcript(*, session: AsyncSession, conversation_id: str) -> list[Message]:
    return list(
        (
            await session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            )
        ).all()
    )


async def mark_verified(
    *, session: AsyncSession, conversation_id: str, debtor: Debtor, now: datetime | None = None
) -> Conversation:
    conversation = await ensure(session=session, conversation_id=conversation_id)
    conversation.debtor_id = debtor.id
    conversation.verified_at = now or utcnow()
    await _follow_language(session, conversation, debtor)
    await session.flush()
    return conversation


async def _follow_language(session: AsyncSession, conversation: Conversation, debtor: Debtor) -> None:
    """The language follows the person across channels: one they chose or write in becomes their
    preference; a conversation whose language was only guessed (a hint, short replies) takes theirs."""
    last_inbound = await session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())
        .limit(1)
    )
    writes_in_it = last_inbound is not None and last_inbound.detected_language == conversation.locale
    if conversation.locale and (conversation.locale_locked or writes_in_it):
        debtor.locale = conversation.locale
    elif debtor.locale:
        conversation.locale = debtor.locale


async def previous_contact(*, session: AsyncSession, debtor_id: int, conversation_id: str) -> Conversation | None:
    """The debtor's most recent other conversation (another channel, or an earlier chat)."""
    return await session.scalar(
        select(Conversation)
        .where(Conversation.debtor_id == debtor_id, Conversation.id != conversation_id)
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    )


async def set_locale(*, session: AsyncSession, conversation_id: str, locale: str, locked: bool) -> Conversation:
    conversation = await ensure(session=session, conversation_id=conversation_id)
    conversation.locale = locale
    conversation.locale_locked = locked
    await session.flush()
    return conversation


async def verified_now(
    *,
    session: AsyncSession,
    conversations: Sequence[Conversation],
    idle_limit: Callable[[str], timedelta],
    now: datetime | None = None,
) -> set[str]:
    """Ids of the conversations whose verification is still current.

    Current means: made in this conversation and not lapsed, i.e. no silence from the person longer
    than the channel's `idle_limit` between the verification, each later message they wrote, and
    now. That is when the assistant itself forgets it (Rasa's session expiry, web chat's idle
    lapse), so a number recycled to someone else months later is not "verified" any more."""
    now = now or utcnow()
    verified = {c.id: c for c in conversations if c.verified_at is not None}
    if not verified:
        return set()
    since: dict[str, list[datetime]] = {cid: [] for cid in verified}
    rows = await session.execute(
        select(Message.conversation_id, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.conversation_id.in_(list(verified)),
            Message.direction == Direction.INBOUND,
            Message.created_at >= Conversation.verified_at,
        )
        .order_by(Message.conversation_id, Message.created_at)
    )
    for conversation_id, created_at in rows:
        since[conversation_id].append(created_at)
    current: set[str] = set()
    for cid, conversation in verified.items():
        assert conversation.verified_at is not None
        moments = [conversation.verified_at, *since[cid], now]
        limit = idle_limit(conversation.channel)
        if conversation.verified_at <= now and all(b - a <= limit for a, b in pairwise(moments)):
            current.add(cid)
    return current


async def find(*, session: AsyncSession, channel: str, external_id: str) -> Conversation | None:
    """The conversation at this channel address, if there is one yet."""
    return await session.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.external_id == external_id)
    )


async def lapse_idle_verification(
    *, session: AsyncSession, conversation: Conversation, idle: timedelta, now: datetime | None = None
) -> bool:
    """Forget a verification the person has been silent on for `idle` (a web chat left open on a
    shared device): the next disclosure asks again. The debtor link goes too, since the actions
    check it besides Rasa's `verified` slot. True when it lapsed (the caller tells Rasa)."""
    last = conversation.last_inbound_at or conversation.verified_at
    if conversation.verified_at is None or last is None or (now or utcnow()) - last < idle:
        return False
    conversation.verified_at = None
    conversation.debtor_id = None
    await session.flush()
    return True
