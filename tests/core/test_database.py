"""SQLite transactions: writers take the lock up front; the read-only option never waits for it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from core.database import READ_ONLY, make_engine, make_sessionmaker


async def test_read_only_transactions_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}")
    try:
        async with engine.begin() as setup:
            await setup.execute(text("CREATE TABLE t (x INTEGER)"))
            await setup.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as writer:
            await writer.begin()  # BEGIN IMMEDIATE: holds the write lock
            await writer.execute(text("INSERT INTO t VALUES (2)"))
            async with engine.connect() as reader:
                reader = await reader.execution_options(**READ_ONLY)
                async with reader.begin():
                    value = await asyncio.wait_for(reader.scalar(text("SELECT count(*) FROM t")), timeout=2)
            assert value == 1  # the writer's row is not committed yet
            await writer.rollback()
    finally:
        await engine.dispose()


async def test_a_session_can_ask_for_a_read_only_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}")
    try:
        async with engine.begin() as setup:
            await setup.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.connect() as writer:
            await writer.begin()
            async with make_sessionmaker(engine)() as session:
                await session.connection(execution_options=READ_ONLY)
                count = await asyncio.wait_for(session.scalar(text("SELECT count(*) FROM t")), timeout=2)
            assert count == 0
            await writer.rollback()
    finally:
        await engine.dispose()
