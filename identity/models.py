"""Stored verification attempts (needed for lockout and audit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utcnow


class VerificationAttempt(Base):
    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    # What the person claimed (normalised); never the date of birth they typed.
    claimed_reference: Mapped[str | None] = mapped_column(String(32), index=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"))
    success: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
