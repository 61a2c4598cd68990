"""admin NLU training: example edits and model versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATUSES = ("queued", "training", "evaluating", "ready", "failed", "active")


def upgrade() -> None:
    op.create_table(
        "nlu_example_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column(
            "op", sa.Enum("add", "edit", "delete", name="changeop", native_enum=False, length=16), nullable=False
        ),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("original", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff_users.id"],
            name=op.f("fk_nlu_example_changes_created_by_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_example_changes")),
    )
    with op.batch_alter_table("nlu_example_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nlu_example_changes_locale"), ["locale"], unique=False)

    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="versionstatus", native_enum=False, length=16), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=True),
        sa.Column("from_repository", sa.Boolean(), nullable=False),
        sa.Column("model_path", sa.String(length=500), nullable=True),
        sa.Column("changes_upto", sa.Integer(), nullable=True),
        sa.Column("examples", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("train_seconds", sa.Float(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("activated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activated_by"],
            ["staff_users.id"],
            name=op.f("fk_model_versions_activated_by_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff_users.id"],
            name=op.f("fk_model_versions_created_by_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("name", name=op.f("uq_model_versions_name")),
        sa.UniqueConstraint("running", name=op.f("uq_model_versions_running")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_model_versions_one_active",
            ["status"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_model_versions_one_active")
        batch_op.drop_index(batch_op.f("ix_model_versions_status"))
    op.drop_table("model_versions")
    with op.batch_alter_table("nlu_example_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nlu_example_changes_locale"))
    op.drop_table("nlu_example_changes")
