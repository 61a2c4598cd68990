"""What the agent console reads: the queue, and everything about one conversation.

Read-only; returns plain dicts shaped like the console's JSON (handoff/views.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation, Direction, Message
from handoff import config as handoff_config
from handoff import service as handoff_service
from handoff.models import CallbackRequest, Handoff, Note, Status, Transition
from money.disputes.models import Dispute
from money.hardship.models import HardshipCase
from money.holds import service as holds_service
from people.auth.models import StaffUser
from people.debtors import service as debtors_service
from people.debtors.models import Debt, Debtor
from people.jurisdiction import service as jurisdiction


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _staff(session: AsyncSession, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    users = await session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))
    return {u.id: {"id": u.id, "display_name": u.display_name} for u in users}


async def queue(*, session: AsyncSession, now: datetime | None = None) -> dict[str, Any]:
    """Open cases, most urgent first, then the longest waiting."""
    now = now or utcnow()
    rows = (
        await session.execute(
            select(Handoff, Conversation, Debtor)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .outerjoin(Debtor, Debtor.id == Conversation.debtor_id)
            .where(Handoff.status != Status.RESOLVED)
            .order_by(Handoff.priority, Handoff.created_at, Handoff.id)
        )
    ).all()
    agents = await _staff(session, {c.agent_id for _, c, _ in rows if c.agent_id})
    ids = [c.id for _, c, _ in rows]
    verified = await _verified_now(session, [c for _, c, _ in rows], now)
    last: dict[str, str] = {}
    callbacks: set[str] = set()
    if ids:
        latest = (
            select(Message.conversation_id, func.max(Message.id).label("id"))
            .where(Message.conversation_id.in_(ids), Message.direction == Direction.INBOUND)
            .group_by(Message.conversation_id)
            .subquery()
        )
        for conversation_id, text in await session.execute(
            select(Message.conversation_id, Message.text).join(latest, latest.c.id == Message.id)
        ):
            last[conversation_id] = text[:160]
        callbacks = set(
            (
                await session.scalars(
                    select(CallbackRequest.conversation_id).where(
                        CallbackRequest.conversation_id.in_(ids), CallbackRequest.done_at.is_(None)
                    )
                )
            ).all()
        )
    items = [
        {
            "conversation_id": conversation.id,
            "handoff_id": case.id,
            "state": conversation.state,
            "reason": case.reason.value,
            "reasons": case.reasons or [],
            "priority": case.priority,
            "waiting_seconds": int((now - case.created_at).total_seconds()),
            "created_at": _iso(case.created_at),
            "locale": conversation.locale,
            "channel": conversation.channel,
            "agent": agents.get(conversation.agent_id) if conversation.agent_id else None,
            "debtor_name": debtor.name if debtor and conversation.id in verified else None,
            "verified": conversation.id in verified,
            "last_message": last.get(conversation.id),
            "callback_requested": conversation.id in callbacks,
        }
        for case, conversation, debtor in rows
    ]
    return {"agents_online": await handoff_service.agents_online(session=session, now=now), "items": items}


async def waiting(*, session: AsyncSession, now: datetime | None = None) -> tuple[int, float]:
    """Cases waiting for an agent (none has taken them yet) and the longest wait in seconds (0
    when none): the queue's pressure, for /metrics."""
    count, oldest = (
        await session.execute(
            select(func.count(Handoff.id), func.min(Handoff.created_at)).where(Handoff.status == Status.QUEUED)
        )
    ).one()
    if not count or oldest is None:
        return 0, 0.0
    return int(count), max(0.0, ((now or utcnow()) - oldest).total_seconds())


async def _verified_now(session: AsyncSession, conversations: list[Conversation], now: datetime) -> set[str]:
    """Only a current verification counts (config/handoff.yml `verification_idle_minutes`)."""
    return await conversations_service.verified_now(
        session=session, conversations=conversations, idle_limit=handoff_config.load().verification_idle, now=now
    )


async def _debtor(session: AsyncSession, debtor_id: int) -> dict[str, Any] | None:
    debtor = await session.get(Debtor, debtor_id)
    if debtor is None:
        return None
    balance = await debtors_service.open_balance(session=session, debtor_id=debtor.id)
    holds = await holds_service.active(session=session, debtor_id=debtor.id)
    debts = []
    for line in balance.debts:
        reasons = sorted({h.reason.value for h in holds if h.debt_id in (None, line.id)})
        debts.append(
            {
                "id": line.id,
                "creditor": line.creditor,
                "reference": line.reference,
                "currency": line.currency,
                "amount": str(line.amount),
                "due_date": line.due_date.isoformat(),
                "paused": bool(reasons),
                "hold_reasons": reasons,
            }
        )
    return {
        "id": debtor.id,
        "name": debtor.name,
        "reference": debtor.reference,
        "locale": debtor.locale,  # the words
        "country": jurisdiction.country_of(debtor),  # the rules (people/jurisdiction)
        "region": debtor.region,
        "phone": debtor.phone,
        "email": debtor.email,
        "debts": debts,
    }


def _message(message: Message, agents: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": message.id,
        "direction": message.direction.value,
        "channel": message.channel,
        "text": message.text,
        "created_at": _iso(message.created_at),
        "locale": message.locale,
        "detected_language": message.detected_language,
        "language_confidence": message.language_confidence,
        "intent": message.intent,
        "confidence": message.confidence,
        "distress_score": message.distress_score,
        "signals": message.signals,
        "agent": agents.get(message.agent_id) if message.agent_id else None,
        "delivery_status": message.delivery_status,
    }


async def _all(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.scalars(query)).all())


async def conversation(
    *, session: AsyncSession, conversation_id: str, now: datetime | None = None
) -> dict[str, Any] | None:
    found = await session.get(Conversation, conversation_id)
    if found is None:
        return None
    verified = found.id in await _verified_now(session, [found], now or utcnow())
    case = await handoff_service.open_case(session=session, conversation_id=found.id)
    messages = await _all(session, select(Message).where(Message.conversation_id == found.id).order_by(Message.id))
    notes = await _all(session, select(Note).where(Note.conversation_id == found.id).order_by(Note.id))
    moves = await _all(
        session, select(Transition).where(Transition.conversation_id == found.id).order_by(Transition.id)
    )
    disputes = (
        await session.execute(
            select(Dispute, Debt.reference)
            .join(Debt, Debt.id == Dispute.debt_id)
            .where(Dispute.conversation_id == found.id)
            .order_by(Dispute.id)
        )
    ).all()
    hardship = await _all(
        session, select(HardshipCase).where(HardshipCase.conversation_id == found.id).order_by(HardshipCase.id)
    )
    callbacks = await _all(
        session, select(CallbackRequest).where(CallbackRequest.conversation_id == found.id).order_by(CallbackRequest.id)
    )
    staff_ids = {m.agent_id for m in messages if m.agent_id} | {n.agent_id for n in notes if n.agent_id}
    agents = await _staff(session, staff_ids | ({found.agent_id} if found.agent_id else set()))
    return {
        "conversation": {
            "id": found.id,
            "channel": found.channel,
            "locale": found.locale,
            "state": found.state,
            "agent": agents.get(found.agent_id) if found.agent_id else None,
            # The current verification and its time; an old one only as "last verified".
            "verified": verified,
            "verified_at": _iso(found.verified_at) if verified else None,
            "last_verified_at": _iso(found.verified_at),
        },
        "handoff": None
        if case is None
        else {
            "id": case.id,
            "reason": case.reason.value,
            "priority": case.priority,
            "status": case.status.value,
            "reasons": case.reasons or [],
            "created_at": _iso(case.created_at),
            "taken_at": _iso(case.taken_at),
            "hold_bot": case.hold_bot,
        },
        # Only a current verification shows whose debts these are (never a recycled number's past owner).
        "debtor": await _debtor(session, found.debtor_id) if found.debtor_id and verified else None,
        "messages": [_message(m, agents) for m in messages],
        "notes": [
            {"id": n.id, "text": n.text, "created_at": _iso(n.created_at), "agent": agents.get(n.agent_id or 0)}
            for n in notes
        ],
        "transitions": [
            {
                "from_state": t.from_state.value,
                "to_state": t.to_state.value,
                "actor": t.actor,
                "reason": t.reason,
                "created_at": _iso(t.created_at),
            }
            for t in moves
        ],
        "disputes": [
            {
                "id": d.id,
                "debt_id": d.debt_id,
                "debt_reference": reference,
                "reason": d.reason.value,
                "details": d.details,
                "status": d.status.value,
                "opened_at": _iso(d.opened_at),
            }
            for d, reference in disputes
        ],
        "hardship": [
            {"id": h.id, "option": h.option.value if h.option else None, "created_at": _iso(h.created_at)}
            for h in hardship
        ],
        "callbacks": [
            {
                "id": c.id,
                "details": c.details,
                "phone": c.phone,
                "created_at": _iso(c.created_at),
                "done_at": _iso(c.done_at),
            }
            for c in callbacks
        ],
        "outcomes": list(handoff_config.load().outcomes),
    }


async def version(*, session: AsyncSession) -> tuple[int, ...]:
    """Changes whenever anything the console shows changes (new message, transition, note, case,
    callback, delivery status): the live stream compares it once a second."""
    row = (
        await session.execute(
            select(
                select(func.coalesce(func.max(Message.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(Transition.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(Note.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(CallbackRequest.id), 0)).scalar_subquery(),
                select(func.count()).select_from(Handoff).where(Handoff.status != Status.RESOLVED).scalar_subquery(),
                select(func.coalesce(func.sum(Handoff.priority), 0))
                .where(Handoff.status != Status.RESOLVED)
                .scalar_subquery(),
                select(func.coalesce(func.max(Dispute.id), 0)).scalar_subquery(),
                select(func.coalesce(func.max(HardshipCase.id), 0)).scalar_subquery(),
            )
        )
    ).one()
    return tuple(int(value) for value in row)
