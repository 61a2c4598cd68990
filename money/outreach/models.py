"""First-contact state: one case per overdue debt, one contact row per message (or call-list
entry), one-time web chat link tokens.

A case moves forward only: `step` is the index of the next cadence step; `stopped_reason` ends it
(replied, verified, paid, agreed, disputed, ...). `contacted_at`, `replied_at`, `verified_at` and
`settled_at` are the funnel's facts, kept after the case stopped (analytics reads them).
Contact rows are what the shared frequency cap counts (with the reminders' own rows).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class OutreachCase(Base):
    __tablename__ = "outreach_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    step: Mapped[int] = mapped_column(Integer, default=0)  # the next cadence step (index)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_channel: Mapped[str | None] = mapped_column(String(16))
    last_step: Mapped[int | None] = mapped_column(Integer)  # the step of the last contact (funnel)
    stopped_reason: Mapped[str | None] = mapped_column(String(32), index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first-contact text's experiment (no foreign key: kept as a fact) and variant.
    experiment_id: Mapped[int | None] = mapped_column(Integer)
    variant: Mapped[str | None] = mapped_column(String(64))
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # paid or agreed (plan, promise)
    reply_step: Mapped[int | None] = mapped_column(Integer)  # the last step sent before the reply


class ContactStatus(StrEnum):
    SENDING = "sending"  # claimed; the provider call is in flight
    SENT = "sent"
    FAILED = "failed"
    LISTED = "listed"  # a call-list entry for a person


class OutreachContact(Base):
    __tablename__ = "outreach_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[ContactStatus] = mapped_column(enum_column(ContactStatus))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    text_key: Mapped[str | None] = mapped_column(String(100))
    experiment_id: Mapped[int | None] = mapped_column(Integer)
    variant: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(255))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutreachToken(Base):
    """A one-time link into the web chat: only its SHA-256 is stored."""

    __tablename__ = "outreach_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The web chat conversation the link opened (its server-side key): a reply there counts.
    conversation_key: Mapped[str | None] = mapped_column(String(128))
