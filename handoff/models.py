"""Hand-over to people: the case in the queue, every state transition, agent notes, callbacks.

The conversation's current state lives on `conversations.state` (bot | queued | agent); a
`Handoff` is one trip through the queue, from escalation to resolution.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class State(StrEnum):
    BOT = "bot"  # the assistant answers
    QUEUED = "queued"  # waiting for an agent (the assistant still answers unless the case holds it)
    AGENT = "agent"  # an agent owns it: messages go to the agent, Rasa's tracker is paused
    RESOLVED = "resolved"  # recorded in transitions only: resolution hands straight back to the bot


class Reason(StrEnum):
    SELF_HARM = "self_harm"
    VULNERABILITY = "vulnerability"
    HARDSHIP = "hardship"
    DISPUTE = "dispute"
    LOCKOUT = "lockout"
    REQUEST_HUMAN = "request_human"
    FALLBACK = "fallback"
    AGENT = "agent"  # an agent took over on their own initiative
    CALL_LIST = "call_list"  # first contact's messages went unanswered: a person rings (money/outreach)


# Lower number = served first: vulnerability and hardship before everything else.
PRIORITY: dict[Reason, int] = {
    Reason.SELF_HARM: 0,
    Reason.VULNERABILITY: 1,
    Reason.HARDSHIP: 2,
    Reason.DISPUTE: 3,
    Reason.LOCKOUT: 4,
    Reason.REQUEST_HUMAN: 5,
    Reason.FALLBACK: 6,
    Reason.AGENT: 7,
    Reason.CALL_LIST: 8,
}


class Status(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    RESOLVED = "resolved"


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    reason: Mapped[Reason] = mapped_column(enum_column(Reason))  # the most urgent reason so far
    priority: Mapped[int] = mapped_column(index=True)
    # Every reason that reached the queue while this case was open, with its details.
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.QUEUED, index=True)
    # Self-harm: the assistant stays silent (no collection talk) until a person has taken over.
    hold_bot: Mapped[bool] = mapped_column(default=False)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))


class Transition(Base):
    """Who moved the conversation from which state to which, and when (audit trail)."""

    __tablename__ = "handoff_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[State] = mapped_column(enum_column(State))
    to_state: Mapped[State] = mapped_column(enum_column(State))
    actor: Mapped[str] = mapped_column(String(64))  # "bot", "gateway", "agent:<id>", "system"
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Note(Base):
    """An internal note on a conversation: seen by staff only, never sent to the debtor."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallbackRequest(Base):
    """Left by a debtor when nobody was online: how and when they would like to be contacted."""

    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="SET NULL"))
    # The channel address when it is a phone number (SMS, WhatsApp), else None.
    phone: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text)  # what they wrote: number, good times
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
