"""Deleting conversations from Rasa's SQL tracker store (the `events` table Rasa 3.6's
SQLTrackerStore creates) on real SQLite files and PostgreSQL databases: exactly the chosen
conversations' events go, nothing else; older-than for retention; nothing there is not an error;
an unreachable store is reported, not taken for success."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func, insert, select
from sqlalchemy import Float as SAFloat
from sqlalchemy.ext.asyncio import create_async_engine

from core.database import normalize_url
from engine.conversations.tracker_store import RasaTrackerStore, TrackerStoreError
from tests.databases import fresh_postgres
from tests.stack import free_port

# Rasa 3.6 SQLTrackerStore.SQLEvent (.venv-rasa/.../rasa/core/tracker_store.py), column for column.
_metadata = MetaData()
RASA_EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", SAFloat),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


async def create_rasa_events(url: str) -> None:
    """Rasa's `events` table in the database at `url` (as Rasa is given it)."""
    engine = create_async_engine(normalize_url(url))
    async with engine.begin() as connection:
        await connection.run_sync(_metadata.create_all)
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty Rasa tracker database with Rasa's table."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rasa-trackers.db'}"
    else:
        url = await fresh_postgres("rasa_trackers_test")
    await create_rasa_events(url)
    yield url


async def add_events(url: str, sender: str, *, texts: list[str], at: float | None = None) -> None:
    stamp = at if at is not None else time.time()
    rows = [
        {
            "sender_id": sender, "type_name": "user", "timestamp": stamp + i, "intent_name": "inform",
            "action_name": None, "data": json.dumps({"event": "user", "text": text, "timestamp": stamp + i}),
        }
        for i, text in enumerate(texts)
    ]  # fmt: skip
    engine = create_async_engine(normalize_url(url))
    async with engine.begin() as connection:
        await connection.execute(insert(RASA_EVENTS), rows)
    await engine.dispose()


async def senders(url: str) -> dict[str, int]:
    engine = create_async_engine(normalize_url(url))
    async with engine.connect() as connection:
        rows = await connection.execute(select(RASA_EVENTS.c.sender_id, func.count()).group_by(RASA_EVENTS.c.sender_id))
        found = {sender: int(count) for sender, count in rows.tuples().all()}
    await engine.dispose()
    return found


async def test_erase_deletes_exactly_the_conversations_events(store_url: str) -> None:
    mine = [str(uuid.uuid4()), str(uuid.uuid4())]
    other = str(uuid.uuid4())
    await add_events(store_url, mine[0], texts=["UK-300552", "21/07/1992", "Emily Carter owes £612.45"])
    await add_events(store_url, mine[1], texts=["1992-07-21"])
    await add_events(store_url, other, texts=["SE-100234", "12.04.1985"])
    await add_events(store_url, mine[0] + "x", texts=["a longer id that merely starts the same"])

    store = RasaTrackerStore(store_url)
    assert await store.delete(mine) == 4
    assert await senders(store_url) == {other: 2, mine[0] + "x": 1}
    assert await store.delete(mine) == 0  # idempotent


async def test_retention_deletes_only_events_older_than_the_cutoff(store_url: str) -> None:
    sender, other = str(uuid.uuid4()), str(uuid.uuid4())
    now = time.time()
    await add_events(store_url, sender, texts=["old reference", "old birth date"], at=now - 400 * 86400)
    await add_events(store_url, sender, texts=["recent message"], at=now - 86400)
    await add_events(store_url, other, texts=["someone else's old message"], at=now - 400 * 86400)
    store = RasaTrackerStore(store_url)
    assert await store.delete([sender], before=now - 365 * 86400) == 2
    assert await senders(store_url) == {sender: 1, other: 1}


async def test_a_store_rasa_never_wrote_is_not_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "never" / "rasa-trackers.db"
    assert await RasaTrackerStore(f"sqlite:///{missing}").delete(["a"]) == 0
    assert not missing.exists()  # not created by looking
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert await RasaTrackerStore(f"sqlite:///{empty}").delete(["a"]) == 0  # no `events` table yet
    assert RasaTrackerStore.from_url(None) is None and RasaTrackerStore.from_url(" ") is None


async def test_an_unreachable_store_is_reported() -> None:
    store = RasaTrackerStore(f"postgresql://nobody@127.0.0.1:{free_port()}/rasa")
    with pytest.raises(TrackerStoreError):
        await store.delete(["a"])


async def test_sqlite_overwrites_what_it_deletes(tmp_path: Path) -> None:
    """secure_delete: the deleted texts are not left in the file's free pages."""
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    await create_rasa_events(url)
    secret = f"UNIQUE-{uuid.uuid4().hex}"
    await add_events(url, "gone", texts=[secret] * 50)
    await add_events(url, "kept", texts=["still here"])
    assert secret.encode() in (tmp_path / "rasa.db").read_bytes()
    assert await RasaTrackerStore(url).delete(["gone"]) == 50
    assert secret.encode() not in (tmp_path / "rasa.db").read_bytes()
