"""Admin edits to the NLU training data and the models trained from them.

The training data of record stays in git (bot/nlu/data/<locale>.yml). An admin's change is a row
in `nlu_example_changes`, replayed in order on top of the YAML whenever the effective examples
are needed (listing, validation, a training workspace), so git and the admin's work never fight
over one file. Every retrain is a row in `model_versions`, from "queued" to "ready" (or
"failed"); at most one is "active" (the model Rasa runs).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UTCDateTime, enum_column, utcnow

MAX_EXAMPLE_CHARS = 300


class ChangeOp(StrEnum):
    ADD = "add"
    EDIT = "edit"  # `original` -> `text`, same intent
    DELETE = "delete"  # `text` removed


class VersionStatus(StrEnum):
    QUEUED = "queued"
    TRAINING = "training"
    EVALUATING = "evaluating"
    READY = "ready"  # trained and evaluated: can be activated
    FAILED = "failed"
    ACTIVE = "active"  # the model Rasa runs (at most one row)


BUSY = (VersionStatus.QUEUED, VersionStatus.TRAINING, VersionStatus.EVALUATING)


class ExampleChange(Base):
    __tablename__ = "nlu_example_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), index=True)
    intent: Mapped[str] = mapped_column(String(64))
    op: Mapped[ChangeOp] = mapped_column(enum_column(ChangeOp))
    # The example added, the new text of an edit, or the example deleted (Rasa markup kept).
    text: Mapped[str] = mapped_column(String(MAX_EXAMPLE_CHARS))
    # An edit's previous text.
    original: Mapped[str | None] = mapped_column(String(MAX_EXAMPLE_CHARS))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        # One active model, enforced by the database (two racing activations cannot both win).
        Index(
            "ix_model_versions_one_active",
            "status",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # File stem of the model in the models directory, e.g. "nlu-0003-20261203T101500".
    name: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[VersionStatus] = mapped_column(enum_column(VersionStatus), index=True)
    # True while queued/training/evaluating, NULL otherwise: the unique constraint makes "one
    # training at a time" hold across requests and processes (NULLs never collide).
    running: Mapped[bool | None] = mapped_column(unique=True)
    progress: Mapped[int] = mapped_column(default=0)  # 0-100
    phase: Mapped[str | None] = mapped_column(String(32))  # what the job is doing now (a code)
    # The model the repository's `make train` built, registered as the first version.
    from_repository: Mapped[bool] = mapped_column(default=False)
    model_path: Mapped[str | None] = mapped_column(String(500))
    # The last example change included in the training data (None: the YAML alone).
    changes_upto: Mapped[int | None]
    # {"<locale>": number of training examples}
    examples: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # tools.eval_nlu --per-intent report on the held-out set: {"<locale>": {n, intent_accuracy,
    # intent_macro_f1, intents: {intent: {precision, recall, f1, support}}, confusions: [...]}}
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    train_seconds: Mapped[float | None]
    log_tail: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Touched by every progress write: a busy row not touched for long belongs to a dead job.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
