"""Hardship cases: what the debtor told us and which option they chose."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class HardshipOption(StrEnum):
    PAUSE = "pause"  # collection paused for a while (config/handoff.yml: hardship.pause_days)
    TOKEN_PLAN = "token_plan"  # a small token payment plan, set up with a specialist
    BREATHING_SPACE = "breathing_space"  # statutory scheme where the locale has one


class HardshipCase(Base):
    __tablename__ = "hardship_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    # Known once the person is verified (hardship can be reported before that).
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    option: Mapped[HardshipOption | None] = mapped_column(enum_column(HardshipOption))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    option_chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
