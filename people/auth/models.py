"""Staff accounts (agents and admins) and their console sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"  # everything an agent can do, plus managing staff and settings


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # argon2id (argon2-cffi PasswordHasher); never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.AGENT)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Updated while the console is open (live-updates stream): "is anyone online" for the queue.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the console and admin pages the staff member chose (None: the browser's).
    locale: Mapped[str | None] = mapped_column(String(16), default=None)


class StaffSession(Base):
    """A console login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    # Sent back by the console in the X-CSRF-Token header on every state-changing request.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
