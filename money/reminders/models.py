"""The reminder outbox: one row per reminder ever planned, whatever became of it.

A row is planned once (`dedupe_key` is unique: a second planner run, or two at once, insert
nothing) and then moves forward only: scheduled -> sending (claimed by one sender with a
compare-and-set) -> sent | failed, or scheduled -> skipped (with the reason). Deferring (contact
hours, frequency cap) only moves `scheduled_for`. Analytics reads this table.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"  # a debt's due date is near
    INSTALLMENT_DUE = "installment_due"  # a plan installment is near
    PROMISE_DUE = "promise_due"  # the day the person promised to pay is near
    PROMISE_BROKEN = "promise_broken"  # a promise was judged broken: offer help


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"  # claimed by a sender; the provider call is in flight
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


class Reminder(Base):
    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    kind: Mapped[ReminderKind] = mapped_column(enum_column(ReminderKind))
    # What it is about: the debt, the installment or the promise (by kind), and its date.
    subject_id: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    # Chosen when sending (the preferred channel, or the fallback): None until then.
    channel: Mapped[str | None] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    # The catalog text: the kind's neutral text, or the experiment variant's text once sent.
    text_key: Mapped[str] = mapped_column(String(100))
    # No foreign key: experiments live in another migration branch; the id is kept as a fact.
    experiment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    variant: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[ReminderStatus] = mapped_column(
        enum_column(ReminderStatus), default=ReminderStatus.SCHEDULED, index=True
    )
    # Why it was skipped or failed (a code, e.g. "opted_out", "hold:dispute", "interrupted").
    skip_reason: Mapped[str | None] = mapped_column(String(64))
    # For staff: why it was deferred, or the provider's error.
    detail: Mapped[str | None] = mapped_column(String(255))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # After this it has lost its point (the due day is over): skipped as expired, never sent late.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
