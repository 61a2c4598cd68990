"""web chat sessions issued by the gateway (only a hash of each id is stored)

Revision ID: 0015_webchat_sessions
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_webchat_sessions"
down_revision = "0014_lockout"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webchat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_webchat_sessions_token_hash")),
    )
    with op.batch_alter_table("webchat_sessions") as batch:
        batch.create_index(batch.f("ix_webchat_sessions_conversation_key"), ["conversation_key"], unique=False)
        batch.create_index(batch.f("ix_webchat_sessions_created_at"), ["created_at"], unique=False)
        batch.create_index(batch.f("ix_webchat_sessions_last_used_at"), ["last_used_at"], unique=False)


def downgrade() -> None:
    op.drop_table("webchat_sessions")
