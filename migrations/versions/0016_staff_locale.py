"""staff members' chosen language for the console and admin pages

Revision ID: 0016_staff_locale
Revises: 0015_webchat_sessions
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_staff_locale"
down_revision = "0015_webchat_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("locale")
