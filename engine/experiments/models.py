"""Champion/challenger experiments on a catalog message and the debtors assigned to them.

An experiment's variants are stored as JSON ([{key, text_key, share}], shares summing to 100; the
first variant is the champion). Outcomes are never stored here: they are derived from the
transcript, the ledger and the plans each time results are read (see outcomes.py), so they cannot
drift from what really happened.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow


class Status(StrEnum):
    DRAFT = "draft"  # editable, not used for sending
    RUNNING = "running"  # debtors are assigned to variants
    STOPPED = "stopped"  # nobody new is assigned; the message's own text is sent again
    PROMOTED = "promoted"  # the winner's text is sent to everybody; nobody new is assigned


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (
        # At most one running experiment per message, enforced by the database (a race of two
        # "start" requests cannot both win): a partial unique index on both backends.
        Index(
            "ix_experiments_running_message_key",
            "message_key",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The catalog key the sender asks for, e.g. "utter_reminder_due_soon".
    message_key: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.DRAFT, index=True)
    # [{"key": "neutral", "text_key": "utter_reminder_due_soon", "share": 34}, ...]
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Outcomes count when they happen within this many days after the assignment.
    outcome_days: Mapped[int] = mapped_column(default=7)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The promoted variant's key.
    winner: Mapped[str | None] = mapped_column(String(32))


class ExperimentAssignment(Base):
    """Which variant one debtor gets in one experiment, decided once (by a stable hash)."""

    __tablename__ = "experiment_assignments"
    __table_args__ = (
        UniqueConstraint("experiment_id", "debtor_id", name="uq_experiment_assignments_experiment_id_debtor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    variant: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
