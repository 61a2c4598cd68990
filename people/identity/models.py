"""Stored verification attempts: the lockout counters are replayed from them, and they are the audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, utcnow


class VerificationAttempt(Base):
    __tablename__ = "verification_attempts"
    # The per-reference counter reads one reference's checked attempts of the last week.
    __table_args__ = (Index("ix_verification_attempts_reference", "claimed_reference", "refused", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    # What the person claimed (normalised); never the date of birth they typed.
    claimed_reference: Mapped[str | None] = mapped_column(String(32))
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"))
    success: Mapped[bool]
    # Refused unchecked because the reference was locked: a failure of the conversation that made
    # it, not a new guess on the reference.
    refused: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
