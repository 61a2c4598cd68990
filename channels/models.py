"""Web chat sessions the gateway issued (the page and the widget ask for one before chatting)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, utcnow


class WebchatSession(Base):
    __tablename__ = "webchat_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the id the browser holds: reading the database gives no live session id.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The conversation's address on the web chat channel (conversations.external_id). Server-side
    # and stable while the session lives: a rotated id keeps its conversation, a leaked old id is dead.
    conversation_key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
