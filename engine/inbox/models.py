"""Inbound events as received from a provider, before and after processing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, utcnow


class InboxStatus(StrEnum):
    PENDING = "pending"
    # Rasa has answered and the replies are stored, not all sent yet: a worker that dies now must
    # not ask Rasa again after a restart (the dialogue would move on twice), only send the rest.
    ANSWERED = "answered"
    DONE = "done"


class InboundEvent(Base):
    __tablename__ = "inbound_events"
    # A provider retry (same Twilio MessageSid, same Telegram update_id) cannot be stored twice.
    __table_args__ = (UniqueConstraint("channel", "provider_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    locale_hint: Mapped[str | None] = mapped_column(String(35))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[InboxStatus] = mapped_column(
        Enum(InboxStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=InboxStatus.PENDING,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The transcript row, once written (a retry must not write it twice).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
