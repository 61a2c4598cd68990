"""Admins' live changes to texts and tone, and debtor segments (see service.py, segments.py).

History is immutable: every save, reset and rollback appends a version row and the newest row
per (locale, key, tone) — or per (locale, segment) for tone defaults — is what applies. A rollback
is itself a new row (`restored_from_id` says which version it brought back).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class VersionAction(StrEnum):
    EDIT = "edit"  # an admin wrote a new wording / chose a tone
    RESET = "reset"  # back to the locale files (the text or tone in locales/<locale>/*.yml)
    ROLLBACK = "rollback"  # an earlier version brought back


class TextVersion(Base):
    """One wording of one variant: (locale, key, tone) where tone is empathetic|formal, or plain
    for texts that have a single wording."""

    __tablename__ = "tone_text_versions"
    __table_args__ = (Index("ix_tone_text_versions_locale_key_tone", "locale", "key", "tone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(100))
    tone: Mapped[str] = mapped_column(String(16))
    # None: the file's wording applies (a reset, or a rollback to one).
    text: Mapped[str | None] = mapped_column(Text)
    # [{"title", "payload"}] in the file's order with the file's payloads; None: the file's titles.
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    action: Mapped[VersionAction] = mapped_column(enum_column(VersionAction))
    restored_from_id: Mapped[int | None] = mapped_column(ForeignKey("tone_text_versions.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ToneDefaultVersion(Base):
    """The default tone of a locale (segment None) or of a debtor segment in a locale."""

    __tablename__ = "tone_default_versions"
    __table_args__ = (Index("ix_tone_default_versions_locale_segment", "locale", "segment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    segment: Mapped[str | None] = mapped_column(String(32))
    # None: no choice (the locale's locale.yml default; a segment without a tone of its own).
    tone: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[VersionAction] = mapped_column(enum_column(VersionAction))
    restored_from_id: Mapped[int | None] = mapped_column(ForeignKey("tone_default_versions.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DebtorSegment(Base):
    """An admin's explicit assignment of a debtor to a named segment (one per debtor)."""

    __tablename__ = "debtor_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), unique=True)
    segment: Mapped[str] = mapped_column(String(32), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
