"""One record per import run: who ran it, from where, and what it did (the rows' errors are
returned to the caller, not stored: they repeat the file's personal data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, utcnow


class ImportRun(Base):
    __tablename__ = "portfolio_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))  # "cli" or "api"
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    debtors_created: Mapped[int] = mapped_column(default=0)
    debts_created: Mapped[int] = mapped_column(default=0)
    debts_adjusted: Mapped[int] = mapped_column(default=0)
    debts_unchanged: Mapped[int] = mapped_column(default=0)
