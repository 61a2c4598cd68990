"""Two real Rasa instances behind the gateway's consistent-hash routing, sharing a SQL tracker store
(SQLite file) and a Redis lock store: losing an instance keeps every conversation going, and a
conversation that moves to the other instance keeps its state (a verification form half filled)."""

from __future__ import annotations

import os
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis

from engine.conversations.sharding import HashRing
from tests.own_debtor import own_debtor
from tests.stack import MODEL, RASA, Stack, free_port

pytestmark = pytest.mark.e2e
REDIS_DB = 13  # Rasa's locks for this test only (tests/inbox uses 15); flushed before and after
INSTANCES = ("rasa", "rasa-2")  # tests/stack.py's names: RASA_URL is the first


@dataclass
class ShardedStack(Stack):
    """tests/stack.py's processes with two Rasa instances (its `rasa_instances`, `tracker_store_url`
    and `lock_db`), without the worker."""

    rasa_instances: int = len(INSTANCES)

    @property
    def rasa_urls(self) -> list[str]:
        return [self.rasa_url(name) for name in INSTANCES]

    def up(self) -> ShardedStack:
        for name in (*INSTANCES, "actions", "gateway"):
            self.ports[name] = free_port()
        self.prepare_database()
        for name in (*INSTANCES, "actions", "gateway"):
            self.start(name)
        self.wait_healthy(timeout=150)
        return self

    def crash(self, name: str) -> None:
        """SIGKILL: the instance dies mid-flight, nothing is flushed or closed cleanly."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def conversation_id(self, session: str) -> str:
        with sqlite3.connect(self.database_url.split("///", 1)[1]) as db:
            row = db.execute("SELECT id FROM conversations WHERE external_id = ?", (self.address(session),)).fetchone()
        return str(row[0])


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShardedStack]:
    if not MODEL.exists() or not RASA.exists():
        pytest.fail("end-to-end tests need the Rasa venv and a trained model: run `make test`")
    locks = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    try:
        locks.flushdb()
    except redis.ConnectionError:
        pytest.fail("Redis is expected on 127.0.0.1:6379 (it runs on this machine and CI's)")
    workdir = tmp_path_factory.mktemp("sharded")
    stack = ShardedStack(
        workdir=workdir,
        database_url=f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        tracker_store_url=f"sqlite:///{workdir / 'rasa-trackers.db'}",
        lock_db=REDIS_DB,
    )
    try:
        yield stack.up()
    finally:
        stack.down()
        locks.flushdb()


def test_losing_an_instance_keeps_every_conversation_and_its_state(sharded: ShardedStack) -> None:
    urls = sharded.rasa_urls
    health = sharded.health()
    assert [(i["url"], i["up"]) for i in health["rasa_instances"]] == [(u, True) for u in urls]

    # Conversations half way through verification (reference given, date of birth asked), until
    # each instance owns at least one.
    emily = own_debtor(sharded.database_url).reference  # this test's own twin of the demo debtor
    ring = HashRing(urls)
    owned: dict[str, list[tuple[str, str]]] = {url: [] for url in urls}
    while not all(owned.values()):
        assert sum(map(len, owned.values())) < 12, "the ring never put a conversation on one instance"
        session = f"shard-{uuid.uuid4().hex}"
        sharded.say(session, "hi")
        sharded.say(session, "how much do i owe")
        asked = sharded.say(session, emily)
        assert "date of birth" in asked[-1]["text"].lower()
        conversation = sharded.conversation_id(session)
        owned[ring.node_for(conversation)].append((session, conversation))

    # One tracker store: every instance sees every conversation, whoever served it.
    for url in urls:
        for _, conversation in (pair for pairs in owned.values() for pair in pairs):
            tracker = httpx.get(
                f"{url}/conversations/{conversation}/tracker", params=sharded.rasa_auth, timeout=30
            ).json()
            assert tracker["slots"]["requested_slot"] == "dob", (url, conversation)

    lost, survivor = urls
    sharded.crash(INSTANCES[0])
    for session, _ in owned[survivor] + owned[lost]:
        # The survivor's own conversations carry on; the lost instance's move to the survivor with
        # their state: the date alone completes the verification the other instance started.
        answer = "\n".join(m["text"] for m in sharded.say(session, "21/07/1992"))
        assert answer.startswith("Thank you, Emily") and "612.45" in answer, answer

    health = sharded.health()
    assert health["status"] == "degraded" and health["rasa"]["up"] is False
    assert [(i["url"], i["up"]) for i in health["rasa_instances"]] == [(lost, False), (survivor, True)]

    # Back again, and now the other one goes: every conversation, verified on the survivor, carries
    # on on the instance that was down (it reads the survivor's events from the shared store).
    sharded.start(INSTANCES[0])
    sharded.wait_healthy(timeout=90)
    sharded.crash(INSTANCES[1])
    for session, conversation in owned[lost] + owned[survivor]:
        again = "\n".join(m["text"] for m in sharded.say(session, "how much do i owe"))
        assert "612.45" in again and "date of birth" not in again.lower(), again
        events = httpx.get(f"{lost}/conversations/{conversation}/tracker", params=sharded.rasa_auth, timeout=30)
        events = events.json()["events"]
        assert [e["text"] for e in events if e["event"] == "user"][-2:] == ["21/07/1992", "how much do i owe"]
