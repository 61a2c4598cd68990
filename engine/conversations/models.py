"""Conversation and message tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, utcnow


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


def _new_id() -> str:
    return uuid.uuid4().hex


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    # Also the Rasa sender id, so Rasa never sees a phone number or session cookie.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"), index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    # Set when the person chose a language explicitly; detection then no longer switches it.
    locale_locked: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person last wrote: WhatsApp allows free-form replies only within 24 hours of it.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Payloads of the buttons the last bot turn offered, one list per message (every channel): only
    # these reach Rasa as commands; on SMS/WhatsApp "2" means the last message's second (commands.py).
    offered_options: Mapped[list[Any] | None] = mapped_column(JSON)
    # Who answers (handoff.models.State): "bot", "queued" (waiting for an agent) or "agent".
    state: Mapped[str] = mapped_column(String(16), default="bot", server_default="bot", index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Mirrors Rasa's tracker: paused while an agent owns the conversation. A resume that could not
    # reach Rasa at hand-back is retried before the next message goes to Rasa.
    rasa_paused: Mapped[bool] = mapped_column(default=False, server_default=false())


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    direction: Mapped[Direction] = mapped_column(
        Enum(Direction, native_enum=False, length=3, values_callable=lambda e: [m.value for m in e])
    )
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # Inbound: what the detector saw in this message alone, and the locale chosen with context.
    detected_language: Mapped[str | None] = mapped_column(String(8))
    language_confidence: Mapped[float | None] = mapped_column(Float)
    locale: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    # Inbound: vulnerability signals (model distress score, matched cue categories, priority).
    distress_score: Mapped[float | None] = mapped_column(Float)
    signals: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Outbound on provider channels: the provider's id and what its status callback said.
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    # Outbound written by an agent in the console (None: the assistant).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
