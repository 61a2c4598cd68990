"""portfolio import: debtors' country, one debt per (creditor, reference), ledger adjustments
with a reason, import run records

Revision ID: 0017_portfolio_import
Revises: 0016_staff_locale
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_portfolio_import"
down_revision = "0016_staff_locale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debtors") as batch:
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    with op.batch_alter_table("debts") as batch:
        batch.create_unique_constraint(batch.f("uq_debts_creditor"), ["creditor", "reference"])
    with op.batch_alter_table("ledger_transactions") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=200), nullable=True))
    op.create_table(
        "portfolio_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("debtors_created", sa.Integer(), nullable=False),
        sa.Column("debts_created", sa.Integer(), nullable=False),
        sa.Column("debts_adjusted", sa.Integer(), nullable=False),
        sa.Column("debts_unchanged", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_portfolio_imports_staff_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_imports")),
    )


def downgrade() -> None:
    op.drop_table("portfolio_imports")
    with op.batch_alter_table("ledger_transactions") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("debts") as batch:
        batch.drop_constraint("uq_debts_creditor", type_="unique")
    with op.batch_alter_table("debtors") as batch:
        batch.drop_column("country")
