"""The PostgreSQL the tests and the reliability checks create their databases in."""

from __future__ import annotations

import asyncio
import os

import asyncpg

PG_ADMIN = os.environ.get("TEST_POSTGRES_ADMIN_DSN", "postgresql://127.0.0.1:5432/test")


async def fresh_postgres(name: str) -> str:
    """An empty PostgreSQL database of that name (dropped first if it exists); its URL.
    `TEST_DB_SUFFIX` keeps runs that share one server apart, xdist's worker id the workers of one run."""
    suffixes = (os.environ.get("TEST_DB_SUFFIX"), os.environ.get("PYTEST_XDIST_WORKER"))
    name = "_".join([name, *filter(None, suffixes)])
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    """One query's rows from a PostgreSQL database, for tests outside an event loop (stacks)."""

    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    return asyncio.run(run())
