"""lockout: attempts refused on a locked reference, and the per-reference counter's index

Revision ID: 0014_lockout
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_lockout"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verification_attempts") as batch:
        batch.add_column(sa.Column("refused", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.drop_index("ix_verification_attempts_claimed_reference")
        batch.create_index("ix_verification_attempts_reference", ["claimed_reference", "refused", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("verification_attempts") as batch:
        batch.drop_index("ix_verification_attempts_reference")
        batch.create_index("ix_verification_attempts_claimed_reference", ["claimed_reference"])
        batch.drop_column("refused")
