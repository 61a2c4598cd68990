"""Inserting many rows at once, inside the session's transaction: PostgreSQL's COPY (asyncpg's
copy_records_to_table), elsewhere one executemany.

A portfolio import writes hundreds of thousands of rows (debtors, debts, components, ledger
transactions and entries, consents); COPY takes a fraction of the time prepared INSERTs take.
COPY runs no SQLAlchemy defaults, so they are applied here as an INSERT would (Python-side
scalars and callables; server defaults apply to the columns left out), and every value goes
through its column type's bind processing (enums as their values, UTC timestamps)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Table, insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession


class _Context:
    """What a context-sensitive column default reads: the row being inserted."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> Mapping[str, Any]:
        return self.row


def _columns(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Column[Any]]:
    given = set().union(*(row.keys() for row in rows))
    return [c for c in table.columns if c.key in given or (c.default is not None and not c.primary_key)]


def _records(dialect: Dialect, columns: list[Column[Any]], rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Row values in column order, defaults filled in, through the column types (a plan per
    column first: this runs for hundreds of thousands of rows)."""
    plans = [(c.key, c.default, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
    records = []
    for row in rows:
        values = []
        for key, default, process in plans:
            if key in row:
                value = row[key]
            elif default is None:
                value = None
            elif default.is_callable:
                value = default.arg(_Context(row))  # type: ignore[attr-defined]
            else:
                value = default.arg if default.is_scalar else None  # type: ignore[attr-defined]
            values.append(value if process is None or value is None else process(value))
        records.append(tuple(values))
    return records


async def insert_many(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts by column key) into `table`; no ids come back (callers read them by
    their unique keys)."""
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "asyncpg":
        await session.execute(insert(table), list(rows))
        return
    await session.execute(text("SELECT 1"))  # the driver opens its transaction lazily: COPY must be in it
    columns = _columns(table, rows)
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name,
        records=_records(dialect, columns, rows),
        columns=[c.name for c in columns],
        schema_name=table.schema,
    )
    await _fresh_statistics(session, table, len(rows))


# Rows copied into each table by this process (per database), and the count at its last ANALYZE.
_copied: dict[tuple[str, str], int] = {}
_analyzed: dict[tuple[str, str], int] = {}
ANALYZE_FROM = 1000


async def _fresh_statistics(session: AsyncSession, table: Table, added: int) -> None:
    """ANALYZE a table each time the rows copied into it have doubled: autovacuum comes a minute
    later, and meanwhile the planner, still believing the table small, reads the imported rows
    back (the next chunk's lookups) with full scans — an import's time grew with the square of
    its size. log2(n) ANALYZEs of a sample each cost milliseconds."""
    connection = await session.connection()
    key = (connection.engine.url.render_as_string(hide_password=True), table.fullname)
    _copied[key] = total = _copied.get(key, 0) + added
    if total >= max(ANALYZE_FROM, 2 * _analyzed.get(key, 0)):
        await session.execute(text(f"ANALYZE {table.fullname}"))
        _analyzed[key] = total
