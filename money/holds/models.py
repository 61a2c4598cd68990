"""Collection holds: while a hold is active, no payment request or reminder mentions the debt."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class HoldReason(StrEnum):
    DISPUTE = "dispute"  # until the dispute is resolved
    HARDSHIP = "hardship"  # a breathing pause the debtor chose in hardship
    BREATHING_SPACE = "breathing_space"  # a statutory moratorium (England & Wales)


class CollectionHold(Base):
    __tablename__ = "collection_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    # None: every debt of the debtor.
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), index=True)
    reason: Mapped[HoldReason] = mapped_column(enum_column(HoldReason))
    # The dispute or hardship case that placed the hold.
    source_id: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until released
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
