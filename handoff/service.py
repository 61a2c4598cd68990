"""The hand-over state machine: bot → queued → agent → resolved → bot.

The gateway owns the state (`conversations.state`); the action server escalates through the same
functions. Every change is a conditional UPDATE on the conversation row, so two agents taking the
same conversation at once (or an escalation racing a take-over) cannot both win, on SQLite and on
PostgreSQL alike, and every change is stored as a `Transition` with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from core.errors import RequestRefused
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation
from handoff import config as handoff_config
from handoff.models import PRIORITY, CallbackRequest, Handoff, Note, Reason, State, Status, Transition
from people.auth.models import Role, StaffUser


class HandoffError(RequestRefused):
    """A transition that is not allowed now; `code` is what the console shows (HTTP 409/403/404)."""


@dataclass(frozen=True)
class Escalation:
    handoff: Handoff
    created: bool  # a new case entered the queue (False: it was already queued or with an agent)
    state: State


def actor_of(agent: StaffUser) -> str:
    return f"agent:{agent.id}"


async def open_case(*, session: AsyncSession, conversation_id: str) -> Handoff | None:
    return await session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status != Status.RESOLVED)
        .order_by(Handoff.id.desc())
        .limit(1)
    )


async def _move(
    session: AsyncSession, conversation_id: str, *, from_states: tuple[State, ...], to: State, agent_id: int | None
) -> State | None:
    """Compare-and-set on the conversation row; the state it left, or None when another won."""
    for source in from_states:
        result = await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state == source.value)
            .values(state=to.value, agent_id=agent_id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            conversation = await session.get(Conversation, conversation_id)
            if conversation is not None:
                await session.refresh(conversation, ["state", "agent_id"])
            return source
    return None


def _record(
    session: AsyncSession,
    conversation_id: str,
    case: Handoff | None,
    source: State,
    target: State,
    *,
    actor: str,
    agent_id: int | None = None,
    reason: str | None = None,
    now: datetime,
) -> None:
    session.add(
        Transition(
            conversation_id=conversation_id,
            handoff_id=case.id if case else None,
            from_state=source,
            to_state=target,
            actor=actor,
            agent_id=agent_id,
            reason=reason,
            created_at=now,
        )
    )


async def escalate(
    *,
    session: AsyncSession,
    conversation_id: str,
    reason: Reason,
    actor: str,
    detail: dict[str, Any] | None = None,
    hold_bot: bool = False,
    now: datetime | None = None,
) -> Escalation:
    """Put the conversation in the queue for `reason`, or add the reason to its open case (the
    most urgent reason sets the priority)."""
    now = now or utcnow()
    conversation = await conversations_service.ensure(session=session, conversation_id=conversation_id)
    entry = {"reason": reason.value, "at": now.isoformat(), "by": actor, **(detail or {})}
    case = await open_case(session=session, conversation_id=conversation.id)
    if case is None:
        source = await _move(session, conversation.id, from_states=(State.BOT,), to=State.QUEUED, agent_id=None)
        if source is not None:
            case = Handoff(
                conversation_id=conversation.id,
                reason=reason,
                priority=PRIORITY[reason],
                reasons=[entry],
                hold_bot=hold_bot,
                created_at=now,
            )
            session.add(case)
            await session.flush()
            _record(session, conversation.id, case, source, State.QUEUED, actor=actor, reason=reason.value, now=now)
            await session.flush()
            return Escalation(case, True, State.QUEUED)
        case = await open_case(session=session, conversation_id=conversation.id)  # someone else opened it
        if case is None:
            raise HandoffError("state_changed")
    case.reasons = [*(case.reasons or []), entry]
    if PRIORITY[reason] < case.priority:
        case.priority, case.reason = PRIORITY[reason], reason
    case.hold_bot = case.hold_bot or hold_bot
    await session.flush()
    return Escalation(case, False, State(conversation.state))


async def take(
    *, session: AsyncSession, conversation_id: str, agent: StaffUser, now: datetime | None = None
) -> Handoff:
    """The agent takes the conversation over: from the queue, or straight from the bot."""
    now = now or utcnow()
    if await session.get(Conversation, conversation_id) is None:
        raise HandoffError("not_found", 404)
    source = await _move(
        session, conversation_id, from_states=(State.QUEUED, State.BOT), to=State.AGENT, agent_id=agent.id
    )
    if source is None:
        raise HandoffError("already_taken")
    case = await open_case(session=session, conversation_id=conversation_id)
    if case is None:
        case = Handoff(
            conversation_id=conversation_id,
            reason=Reason.AGENT,
            priority=PRIORITY[Reason.AGENT],
            reasons=[{"reason": Reason.AGENT.value, "at": now.isoformat(), "by": actor_of(agent)}],
            created_at=now,
        )
        session.add(case)
    case.status, case.agent_id, case.taken_at = Status.ACTIVE, agent.id, now
    await session.flush()
    _record(session, conversation_id, case, source, State.AGENT, actor=actor_of(agent), agent_id=agent.id, now=now)
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    conversation.rasa_paused = True  # the caller pauses Rasa's tracker to mirror this
    await session.flush()
    return case


async def _owned(session: AsyncSession, conversation_id: str, agent: StaffUser) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise HandoffError("not_found", 404)
    if conversation.state != State.AGENT:
        raise HandoffError("not_with_agent")
    if conversation.agent_id != agent.id and agent.role != Role.ADMIN:
        raise HandoffError("owned_by_another_agent", 403)
    return conversation


async def release(
    *, session: AsyncSession, conversation_id: str, agent: StaffUser, now: datetime | None = None
) -> Handoff:
    """Back to the queue (the agent cannot finish it), keeping the case and its priority."""
    now = now or utcnow()
    await _owned(session, conversation_id, agent)
    if await _move(session, conversation_id, from_states=(State.AGENT,), to=State.QUEUED, agent_id=None) is None:
        raise HandoffError("state_changed")
    case = await open_case(session=session, conversation_id=conversation_id)
    assert case is not None
    case.status, case.agent_id = Status.QUEUED, None
    _record(
        session, conversation_id, case, State.AGENT, State.QUEUED, actor=actor_of(agent), agent_id=agent.id, now=now
    )
    await session.flush()
    return case


async def resolve(
    *, session: AsyncSession, conversation_id: str, agent: StaffUser, outcome: str, now: datetime | None = None
) -> Handoff:
    """Close the case with an outcome and hand the conversation back to the bot. An agent may
    resolve a queued case without taking it (a callback made by phone)."""
    now = now or utcnow()
    if outcome not in handoff_config.load().outcomes:
        raise HandoffError("unknown_outcome", 422)
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise HandoffError("not_found", 404)
    if conversation.state == State.AGENT:
        await _owned(session, conversation_id, agent)
    source = await _move(session, conversation_id, from_states=(State.AGENT, State.QUEUED), to=State.BOT, agent_id=None)
    if source is None:
        raise HandoffError("not_in_handoff")
    case = await open_case(session=session, conversation_id=conversation_id)
    assert case is not None
    case.status, case.outcome, case.resolved_at = Status.RESOLVED, outcome, now
    case.agent_id = case.agent_id or agent.id
    who = actor_of(agent)
    _record(
        session, conversation_id, case, source, State.RESOLVED, actor=who, agent_id=agent.id, reason=outcome, now=now
    )
    _record(
        session,
        conversation_id,
        case,
        State.RESOLVED,
        State.BOT,
        actor=who,
        agent_id=agent.id,
        reason="hand_back",
        now=now,
    )
    for callback in await session.scalars(
        select(CallbackRequest).where(CallbackRequest.handoff_id == case.id, CallbackRequest.done_at.is_(None))
    ):
        callback.done_at = now
    await session.flush()
    return case


async def ensure_owner(*, session: AsyncSession, conversation_id: str, agent: StaffUser) -> Conversation:
    """Only the agent who took the conversation (or an admin) may write to the debtor."""
    return await _owned(session, conversation_id, agent)


async def add_note(*, session: AsyncSession, conversation_id: str, agent: StaffUser, text: str) -> Note:
    if await session.get(Conversation, conversation_id) is None:
        raise HandoffError("not_found", 404)
    note = Note(conversation_id=conversation_id, agent_id=agent.id, text=text)
    session.add(note)
    await session.flush()
    return note


async def add_callback(
    *, session: AsyncSession, conversation_id: str, details: str, phone: str | None = None
) -> CallbackRequest:
    case = await open_case(session=session, conversation_id=conversation_id)
    callback = CallbackRequest(
        conversation_id=conversation_id, handoff_id=case.id if case else None, phone=phone, details=details
    )
    session.add(callback)
    await session.flush()
    return callback


async def agents_online(*, session: AsyncSession, now: datetime | None = None) -> int:
    now = now or utcnow()
    since = now - timedelta(seconds=handoff_config.load().presence_seconds)
    count = await session.scalar(
        select(func.count()).select_from(StaffUser).where(StaffUser.active.is_(True), StaffUser.last_seen_at >= since)
    )
    return int(count or 0)


async def notice(
    *, session: AsyncSession, locale: str | None, now: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """What to tell a debtor who just joined the queue: a person replies soon, or (nobody
    online) by when someone will get back to them, with the offer of a callback."""
    now = now or utcnow()
    config = handoff_config.load()
    hours = config.hours_for(locale)
    if await agents_online(session=session, now=now) and hours.is_open(now):
        return "utter_handoff_queued", {"minutes": config.reply_minutes_online}
    by = hours.next_open(now) + timedelta(minutes=config.reply_minutes_offline)
    return "utter_handoff_offline", {"until": by.isoformat(), "timezone": hours.timezone.key}


async def transitions(*, session: AsyncSession, conversation_id: str) -> list[Transition]:
    return list(
        (
            await session.scalars(
                select(Transition).where(Transition.conversation_id == conversation_id).order_by(Transition.id)
            )
        ).all()
    )
