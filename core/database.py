"""Async SQLAlchemy 2 engine, session factory and shared column types.

SQLite (aiosqlite) is the embedded default; any `postgresql://` URL is served by asyncpg.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import DateTime, Enum, MetaData, Table, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000  # SQLite: how long a writer waits for the lock held by another process

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(cls: type[StrEnum], length: int = 16) -> Enum:
    """A StrEnum stored as its values in a VARCHAR (no native enum type: adding a member needs no
    migration on PostgreSQL)."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


async def retry_when_locked(work: Callable[[], Awaitable[T]], *, attempts: int = 8) -> T:
    """Run `work` (one whole transaction) again when SQLite reports a busy database.

    The embedded SQLite default has a single writer shared by the gateway, the worker and the
    action server; under bursts its busy handler can still give up. PostgreSQL never needs this."""
    for attempt in range(attempts):
        try:
            return await work()
        except OperationalError as exc:
            if "database is locked" not in str(exc) or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for bulk inserts: an ORM bulk insert splits its rows into one
    statement per run of rows with the same None columns, Core sends them all in one executemany."""
    found = model.__table__
    if not isinstance(found, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return found


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` / `sqlite://` URLs and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """In-memory SQLite (tests): the same settings as `_open_sqlite`, through the adapter."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _open_sqlite(path: str) -> sqlite3.Connection:
    """A file SQLite connection, set up in aiosqlite's own thread: one hop, not a dozen (each
    statement through the async adapter is several). SQLAlchemy, not the driver, opens
    transactions (savepoints work, see _sqlite_begin). WAL + busy timeout: the gateway, the worker
    and the action server write to the same file. WAL is stored in the file, so it is only set
    when missing: switching the journal takes the write lock."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        if str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        connection.close()
        raise
    return connection


# Execution option for read-only work that runs often (the console's live-update poll): a plain
# deferred BEGIN takes no write lock, so it never makes a writer wait.
READ_ONLY = {"sqlite_read_only": True}


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get("sqlite_read_only"):
        connection.exec_driver_sql("BEGIN")
        return
    # IMMEDIATE takes the write lock up front: two processes never deadlock upgrading a read lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """A file SQLite engine opens a connection per session (NullPool, SQLAlchemy's own default for
    aiosqlite files before 2.0.38). Under concurrent writers a pooled, reused aiosqlite connection
    could keep the write lock while its task's greenlet sat suspended: every other writer then
    waited out the 10 s busy timeout (the replay storm found it; disabling the cyclic GC also
    hid it). A fresh connection costs ~1 ms (set up in one hop, `_open_sqlite`); PostgreSQL keeps its pool."""
    url = normalize_url(url)
    in_file = False
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        in_file = bool(path) and path != ":memory:" and "?" not in path
        if in_file:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("poolclass", NullPool)
            kwargs.setdefault("async_creator", functools.partial(_connect_sqlite, path))
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        if not in_file:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


async def _connect_sqlite(path: str) -> aiosqlite.Connection:
    return await aiosqlite.Connection(functools.partial(_open_sqlite, path), iter_chunk_size=64)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
