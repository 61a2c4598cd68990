"""The registry of personal data against the real schema: a table that can hold data about a
debtor (a debtor/conversation/debt/payment column, or a foreign key to a registered table) must
be registered, so that the export and the erasure cannot forget it."""

from __future__ import annotations

from app.models import Base
from people.gdpr.registry import REGISTRY, UNRELATED, Action, Kind, by_table

LINK_COLUMNS = {"debtor_id", "conversation_id", "debt_id", "payment_id", "plan_id", "transaction_id", "message_id"}
# Pointing at these says nothing about a debtor (staff accounts, experiment definitions...).
NEUTRAL_TARGETS = {"staff_users", "experiments", "model_versions", "tone_text_versions", "tone_default_versions"}


def test_every_table_about_a_debtor_is_registered() -> None:
    registered = set(by_table())
    missing = []
    for name, found in Base.metadata.tables.items():
        if name in registered or name in UNRELATED:
            continue
        targets = {fk.column.table.name for fk in found.foreign_keys} - NEUTRAL_TARGETS
        linked = (LINK_COLUMNS & set(found.c.keys())) or (targets & (registered | {"debtors", "conversations"}))
        if linked:
            missing.append(f"{name} ({', '.join(sorted(linked))})")
    assert not missing, f"register these tables in people/gdpr/registry.py (export + erasure): {missing}"


def test_registered_tables_and_columns_exist() -> None:
    tables = Base.metadata.tables
    for entry in REGISTRY:
        assert entry.table in tables, f"{entry.table} is not a table (renamed?)"
        found = tables[entry.table]
        for link in entry.links:
            for column in link.columns:
                assert column in found.c, f"{entry.table}.{column}"
            assert (len(link.columns) == 2) == (link.kind is Kind.ADDRESS), entry.table
        for column in entry.redact:
            assert column in found.c, f"{entry.table}.{column}"
        assert bool(entry.redact) == (entry.action is Action.REDACT), entry.table
        assert entry.why, entry.table


def test_nothing_kept_holds_identity_or_free_text() -> None:
    """Kept tables (bookkeeping, cases) have no column that names, reaches or quotes the person;
    redacted tables replace every such column."""
    identifying = {"name", "phone", "email", "date_of_birth", "address", "sender", "text", "details", "note"}
    for entry in REGISTRY:
        columns = set(Base.metadata.tables[entry.table].c.keys()) & identifying
        if entry.action is Action.KEEP:
            assert not columns, (entry.table, columns)
        if entry.action is Action.REDACT:
            assert columns <= set(entry.redact), (entry.table, columns - set(entry.redact))
