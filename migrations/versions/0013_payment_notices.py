"""payment notices: the receipt/failure/refund notice owed for a processed provider event

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_events") as batch:
        batch.add_column(sa.Column("notice", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("notice_amount_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("notice_claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_processed_events_notified_at", ["notified_at"])


def downgrade() -> None:
    with op.batch_alter_table("processed_events") as batch:
        batch.drop_index("ix_processed_events_notified_at")
        batch.drop_column("notified_at")
        batch.drop_column("notice_claimed_at")
        batch.drop_column("notice_amount_minor")
        batch.drop_column("notice")
