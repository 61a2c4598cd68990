"""debtors' region (ISO 3166-2 subdivision of their country, e.g. BY): regional public holidays

Revision ID: 0020_debtor_region
Revises: 0019_reference_keys
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_debtor_region"
down_revision = "0019_reference_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debtors") as batch:
        batch.add_column(sa.Column("region", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("debtors") as batch:
        batch.drop_column("region")
