"""Shared fixtures: the real process stack, and service databases on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.database import make_engine
from app.manage import migrate
from debtors.seed import seed_demo
from tests.stack import MODEL, RASA, Stack

PG_ADMIN = os.environ.get("TEST_POSTGRES_ADMIN_DSN", "postgresql://127.0.0.1:5432/test")
PG_DATABASE = "debtor_assistant_test"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa + action server + gateway as real processes on a fresh SQLite database."""
    if not MODEL.exists() or not RASA.exists():
        pytest.fail("end-to-end tests need the Rasa venv and a trained model: run `make test`")
    workdir: Path = tmp_path_factory.mktemp("stack")
    stack = Stack(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'e2e.db'}")
    try:
        yield stack.up()
    finally:
        stack.down()


async def _fresh_postgres() -> str:
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    finally:
        await admin.close()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A database per backend, built by the Alembic migrations (not create_all) and seeded."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'service.db'}"
    else:
        url = await _fresh_postgres()
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        await seed_demo(session=session)
        await session.commit()
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back: commits become savepoints."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def sessionmaker(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """More sessions on the same rolled-back connection (for code that opens its own)."""
    return async_sessionmaker(bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False)
