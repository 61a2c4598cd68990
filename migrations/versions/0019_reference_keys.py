"""reference keys: debtors' and debts' references without separators or case (indexed), so a
reference typed in any spelling finds its case; verification attempts counted by that key

Revision ID: 0019_reference_keys
Revises: 0018_outreach
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_reference_keys"
down_revision = "0018_outreach"
branch_labels = None
depends_on = None

# people/debtors/references.py reference_key, for references of letters, digits, '-' and '/'
# (every stored one); claimed references were stored as typed-then-normalised ('SE-100234').
# Erased debtors (people/gdpr) get none, on their case or their debts: nobody verifies as them.
ERASED = "reference LIKE 'ERASED-%'"
KEY = "upper(replace(replace(replace({column}, '-', ''), '/', ''), ' ', ''))"


def upgrade() -> None:
    for table, length in (("debtors", 32), ("debts", 64)):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("reference_key", sa.String(length=length), nullable=True))
        op.execute(f"UPDATE {table} SET reference_key = {KEY.format(column='reference')}")
        with op.batch_alter_table(table) as batch:
            batch.create_index(batch.f(f"ix_{table}_reference_key"), ["reference_key"], unique=False)
    op.execute(f"UPDATE debtors SET reference_key = NULL WHERE {ERASED}")
    op.execute(f"UPDATE debts SET reference_key = NULL WHERE debtor_id IN (SELECT id FROM debtors WHERE {ERASED})")
    op.execute(
        "UPDATE verification_attempts SET claimed_reference = "
        f"{KEY.format(column='claimed_reference')} WHERE claimed_reference IS NOT NULL"
    )


def downgrade() -> None:
    for table in ("debts", "debtors"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_reference_key"))
            batch.drop_column("reference_key")
