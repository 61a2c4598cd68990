"""Rasa's SQL tracker store, seen from the gateway: deleting conversations' events for GDPR.

Rasa's HTTP API cannot erase a conversation kept in its SQL tracker store: `PUT
/conversations/<id>/tracker/events []` answers 200, but SQLTrackerStore only ever appends, so
every typed reference, birth date, name and balance stays in its `events` table. The gateway
therefore deletes the rows itself (RASA_TRACKER_STORE_URL, the same URL Rasa is given in
bot/endpoints-sharded.yml; SQLite or PostgreSQL). Rasa reads a tracker from that table on every
turn (there is no cache in SQLTrackerStore), so a deleted conversation is gone for Rasa too.

On SQLite the deletion runs with `secure_delete`, so the freed pages are overwritten instead of
keeping the texts in the file until it is vacuumed. Async drivers (aiosqlite, asyncpg): the event
loop is never blocked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from core.database import normalize_url

log = logging.getLogger(__name__)
CHUNK = 500  # sender ids per DELETE (bound parameters stay far below every backend's limit)
ATTEMPTS = 3  # a busy SQLite file or a dropped connection is retried before it is reported

# Rasa 3.6's SQLTrackerStore.SQLEvent (rasa/core/tracker_store.py): only what we filter on.
_metadata = MetaData()
EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("timestamp", Float),
)


class TrackerStoreError(Exception):
    """The tracker store could not be reached or refused the deletion (after retries)."""


def _secure_delete(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class RasaTrackerStore:
    """Rasa's SQL tracker store (`url` as Rasa is given it: sqlite:///… or postgresql://…)."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(normalize_url(url))
        self.sqlite_file: Path | None = None
        if parsed.get_backend_name() == "sqlite":
            self.sqlite_file = Path(parsed.database or "")

    @classmethod
    def from_url(cls, url: str | None) -> RasaTrackerStore | None:
        """None when Rasa keeps its trackers in memory (no RASA_TRACKER_STORE_URL)."""
        return cls(url) if url and url.strip() else None

    def _engine(self) -> AsyncEngine:
        if self.sqlite_file is not None:
            engine = create_async_engine(
                normalize_url(self.url), poolclass=NullPool, connect_args={"timeout": 10}
            )  # Rasa writes to the same file: wait for its lock rather than fail
            event.listen(engine.sync_engine, "connect", _secure_delete)
            return engine
        return create_async_engine(normalize_url(self.url), poolclass=NullPool)

    async def delete(self, sender_ids: Iterable[str], *, before: float | None = None) -> int:
        """Delete every event of these conversations (or only those older than `before`, a Unix
        time, for retention); returns how many rows went. Raises TrackerStoreError."""
        senders = sorted(set(sender_ids))
        if not senders:
            return 0
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            return 0  # Rasa never used this file (in-memory store): nothing stored there
        for attempt in range(ATTEMPTS):
            try:
                return await self._delete(senders, before)
            except (SQLAlchemyError, OSError) as exc:
                if attempt == ATTEMPTS - 1:
                    log.warning("rasa_tracker_store.delete_failed", extra={"error": type(exc).__name__})
                    raise TrackerStoreError(type(exc).__name__) from exc
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    async def _delete(self, senders: list[str], before: float | None) -> int:
        engine = self._engine()
        try:
            async with engine.begin() as connection:
                if not await connection.run_sync(lambda sync: inspect(sync).has_table("events")):
                    return 0  # Rasa has not created its table yet: nothing stored
                deleted = 0
                for start in range(0, len(senders), CHUNK):
                    statement = delete(EVENTS).where(EVENTS.c.sender_id.in_(senders[start : start + CHUNK]))
                    if before is not None:
                        statement = statement.where(EVENTS.c.timestamp < before)
                    result = await connection.execute(statement)
                    deleted += int(result.rowcount or 0)
                return deleted
        finally:
            await engine.dispose()
