"""outreach: first contact on overdue debts (cases per debt, contacts, one-time web chat link tokens)

Revision ID: 0018_outreach
Revises: 0017_portfolio_import
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_outreach"
down_revision = "0017_portfolio_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outreach_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debt_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_channel", sa.String(length=16), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("stopped_reason", sa.String(length=32), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["debt_id"], ["debts.id"], name=op.f("fk_outreach_cases_debt_id_debts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_outreach_cases_debtor_id_debtors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_cases")),
        sa.UniqueConstraint("debt_id", name=op.f("uq_outreach_cases_debt_id")),
    )
    with op.batch_alter_table("outreach_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outreach_cases_debtor_id"), ["debtor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outreach_cases_stopped_reason"), ["stopped_reason"], unique=False)

    op.create_table(
        "outreach_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum("sending", "sent", "failed", "listed", name="contactstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("text_key", sa.String(length=100), nullable=True),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_outreach_contacts_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_outreach_contacts_debtor_id_debtors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_contacts")),
    )
    with op.batch_alter_table("outreach_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outreach_contacts_attempted_at"), ["attempted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outreach_contacts_debtor_id"), ["debtor_id"], unique=False)

    op.create_table(
        "outreach_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conversation_key", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["outreach_contacts.id"],
            name=op.f("fk_outreach_tokens_contact_id_outreach_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_outreach_tokens_debtor_id_debtors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_outreach_tokens_digest")),
    )
    with op.batch_alter_table("outreach_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outreach_tokens_debtor_id"), ["debtor_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outreach_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_tokens_debtor_id"))

    op.drop_table("outreach_tokens")
    with op.batch_alter_table("outreach_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_contacts_debtor_id"))
        batch_op.drop_index(batch_op.f("ix_outreach_contacts_attempted_at"))

    op.drop_table("outreach_contacts")
    with op.batch_alter_table("outreach_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_cases_stopped_reason"))
        batch_op.drop_index(batch_op.f("ix_outreach_cases_debtor_id"))

    op.drop_table("outreach_cases")
