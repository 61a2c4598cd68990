"""Erasure requests (who asked, when, why, what was done) and the keyed-hash opt-out list that
keeps an erased person's STOP working (see people/gdpr/suppression.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class ErasureStatus(StrEnum):
    COMPLETED = "completed"
    BLOCKED = "blocked"  # an open dispute or handoff case must be closed first (see `blockers`)


class ErasureRequest(Base):
    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"), index=True)
    # Who recorded the request (the staff member); the username is a snapshot that survives them.
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    requested_by_username: Mapped[str] = mapped_column(String(254))
    # How the request arrived and why (staff's words: no personal data beyond what is needed).
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[ErasureStatus] = mapped_column(enum_column(ErasureStatus), index=True)
    blockers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # HMAC of the case reference as it was: proves later which case was erased, without keeping it.
    reference_hash: Mapped[str] = mapped_column(String(64))
    # Until when the kept bookkeeping records (ledger, payments) must exist (config/privacy.yml).
    retain_until: Mapped[date | None] = mapped_column(Date)
    # What was done: rows changed per table, conversation ids, Rasa tracker results.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Suppression(Base):
    """An opted-out channel address of an erased person, as a keyed hash: a later message from
    (or to) that address is still treated as opted out, without keeping the address itself."""

    __tablename__ = "consent_suppressions"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
