"""texts and tone: versioned text overrides, tone defaults per locale and segment, debtor segments

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ACTION = sa.Enum("edit", "reset", "rollback", name="versionaction", native_enum=False, length=16)


def upgrade() -> None:
    op.create_table(
        "tone_text_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tone", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("action", ACTION, nullable=False),
        sa.Column("restored_from_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_users.id"],
            name=op.f("fk_tone_text_versions_author_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["restored_from_id"],
            ["tone_text_versions.id"],
            name=op.f("fk_tone_text_versions_restored_from_id_tone_text_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tone_text_versions")),
    )
    with op.batch_alter_table("tone_text_versions", schema=None) as batch_op:
        batch_op.create_index("ix_tone_text_versions_locale_key_tone", ["locale", "key", "tone"], unique=False)

    op.create_table(
        "tone_default_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=True),
        sa.Column("tone", sa.String(length=16), nullable=True),
        sa.Column("action", ACTION, nullable=False),
        sa.Column("restored_from_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_users.id"],
            name=op.f("fk_tone_default_versions_author_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["restored_from_id"],
            ["tone_default_versions.id"],
            name=op.f("fk_tone_default_versions_restored_from_id_tone_default_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tone_default_versions")),
    )
    with op.batch_alter_table("tone_default_versions", schema=None) as batch_op:
        batch_op.create_index("ix_tone_default_versions_locale_segment", ["locale", "segment"], unique=False)

    op.create_table(
        "debtor_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["staff_users.id"],
            name=op.f("fk_debtor_segments_assigned_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_debtor_segments_debtor_id_debtors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_segments")),
        sa.UniqueConstraint("debtor_id", name=op.f("uq_debtor_segments_debtor_id")),
    )
    with op.batch_alter_table("debtor_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_debtor_segments_segment"), ["segment"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("debtor_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_debtor_segments_segment"))
    op.drop_table("debtor_segments")
    with op.batch_alter_table("tone_default_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_tone_default_versions_locale_segment")
    op.drop_table("tone_default_versions")
    with op.batch_alter_table("tone_text_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_tone_text_versions_locale_key_tone")
    op.drop_table("tone_text_versions")
