"""SQLite transactions: writers take the lock up front; the read-only option never waits for it;
a prompt write asks for the lock again every few milliseconds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import text

from app.database import BUSY_TIMEOUT_MS, PROMPT, READ_ONLY, make_engine, make_sessionmaker, write_promptly


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


async def test_a_prompt_write_gets_the_lock_as_soon_as_the_other_writer_commits(tmp_path: Path) -> None:
    """The webhook's inbox write (PROMPT) asks for the lock every few ms instead of sleeping in
    SQLite's busy handler; the pool's next user of that connection waits patiently again."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}", pool_size=1, max_overflow=1)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with engine.begin() as setup:
            await setup.execute(text("CREATE TABLE t (x INTEGER)"))
        attempts = 0

        async def insert(value: int) -> int:
            nonlocal attempts
            attempts += 1
            async with sessionmaker() as session:
                await session.connection(execution_options=PROMPT)
                await session.execute(text("INSERT INTO t VALUES (:v)"), {"v": value})
                await session.commit()
            return value

        async with engine.connect() as writer:
            await writer.begin()  # another writer holds the lock for 200 ms
            await writer.execute(text("INSERT INTO t VALUES (1)"))
            began = time.perf_counter()
            prompt = asyncio.create_task(write_promptly(lambda: insert(2)))
            await asyncio.sleep(0.2)
            await writer.commit()
        assert await asyncio.wait_for(prompt, timeout=2) == 2
        waited = time.perf_counter() - began
        assert attempts > 1  # it was refused while the lock was held, then asked again
        assert waited < 0.2 + 0.1  # and got the lock within a few ms of the commit

        async with sessionmaker() as session:  # an ordinary write on a pooled connection waits again
            busy = await session.scalar(text("PRAGMA busy_timeout"))
            assert busy == BUSY_TIMEOUT_MS
            assert await session.scalar(text("SELECT count(*) FROM t")) == 2
    finally:
        await engine.dispose()
