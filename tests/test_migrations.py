"""The Alembic migrations build exactly the tables the models describe, on SQLite and PostgreSQL
(the service tests run on migrated databases, so a model/migration drift would hide there)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.manage import alembic_config
from app.models import Base


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


def test_one_linear_history() -> None:
    """Parallel branches are merged before they land: one head, so `upgrade head` works too."""
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
