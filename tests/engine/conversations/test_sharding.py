"""Consistent hashing of conversations onto Rasa instances, and the Rasa client's routing and
failover (fake instances through httpx.MockTransport; the real thing is tests/e2e/test_sharding.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app import views as app_views
from app.config import GatewaySettings
from core.database import make_engine, make_sessionmaker
from engine.conversations import rasa_client
from engine.conversations.rasa_client import RasaClient, RasaUnavailable
from engine.conversations.sharding import HashRing, main, sharded_procfile, stable_hash

ROOT = Path(__file__).resolve().parents[3]
KEYS = [f"conversation-{i}" for i in range(20_000)]
A, B, C = "http://127.0.0.1:5005", "http://127.0.0.1:5006", "http://127.0.0.1:5007"


def owners(ring: HashRing) -> dict[str, str]:
    return {key: ring.node_for(key) for key in KEYS}


def test_hash_is_stable_across_processes() -> None:
    """Not Python's salted hash(): another interpreter with another hash seed agrees."""
    code = "from engine.conversations.sharding import HashRing; print(HashRing(['a', 'b', 'c']).node_for('42'))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert runs == {HashRing(["a", "b", "c"]).node_for("42")}
    assert stable_hash("abc") == 0xBA7816BF8F01CFEA  # SHA-256 prefix, forever


def test_load_is_spread_evenly() -> None:
    counts = Counter(owners(HashRing([A, B, C])).values())
    assert set(counts) == {A, B, C}
    assert all(0.27 < n / len(KEYS) < 0.40 for n in counts.values()), counts


def test_adding_an_instance_moves_about_a_third_and_nothing_between_the_old_two() -> None:
    before, after = owners(HashRing([A, B])), owners(HashRing([A, B, C]))
    moved = [k for k in KEYS if before[k] != after[k]]
    assert 0.25 < len(moved) / len(KEYS) < 0.42, len(moved)
    assert all(after[k] == C for k in moved)  # only to the new instance, never A<->B


def test_removing_an_instance_moves_only_its_own_conversations() -> None:
    before, after = owners(HashRing([A, B, C])), owners(HashRing([A, C]))
    assert {k for k in KEYS if before[k] != after[k]} == {k for k in KEYS if before[k] == B}


def test_order_of_instances_does_not_matter() -> None:
    assert owners(HashRing([A, B, C])) == owners(HashRing([C, A, B]))


def test_failover_order_is_the_ring_after_the_owner() -> None:
    ring = HashRing([A, B, C])
    for key in KEYS[:200]:
        order = ring.preference(key)
        assert order[0] == ring.node_for(key) and sorted(order) == sorted([A, B, C])
        # the conversation's successor is where it lands when its owner is removed
        assert HashRing([n for n in [A, B, C] if n != order[0]]).node_for(key) == order[1]
    assert HashRing([A]).preference("x") == [A]


def test_ring_refuses_nonsense() -> None:
    for nodes in ([], [A, A]):
        with pytest.raises(ValueError):
            HashRing(nodes)
    with pytest.raises(ValueError):
        HashRing([A], vnodes=0)


# --- settings ------------------------------------------------------------------------------


def test_settings_list_the_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    assert GatewaySettings(rasa_url="http://r:5005/").rasa_endpoints() == ["http://r:5005"]
    assert GatewaySettings(rasa_url="http://r:5005", rasa_instances=3).rasa_endpoints() == [
        "http://r:5005", "http://r:5006", "http://r:5007",
    ]  # fmt: skip
    monkeypatch.setenv("RASA_URLS", " http://rasa-1:5005/, http://rasa-2:5005 ,")
    monkeypatch.setenv("RASA_INSTANCES", "5")  # an explicit list wins
    assert GatewaySettings().rasa_endpoints() == ["http://rasa-1:5005", "http://rasa-2:5005"]
    monkeypatch.setenv("RASA_URLS", "http://a:1,http://a:1/")
    with pytest.raises(ValidationError):
        GatewaySettings()
    monkeypatch.delenv("RASA_URLS")
    monkeypatch.setenv("RASA_INSTANCES", "0")
    with pytest.raises(ValidationError):
        GatewaySettings()


# --- the client: routing and failover -------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


class FakeRasas:
    """Several Rasa instances behind one MockTransport; `down` refuse connections, `slow` time out
    after the request was sent."""

    def __init__(self, *urls: str) -> None:
        self.urls = urls
        self.calls: list[tuple[str, str, str]] = []  # (instance, method, path)
        self.down: set[str] = set()
        self.slow: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        base = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        if base in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.calls.append((base, request.method, request.url.path))
        if base in self.slow:
            raise httpx.ReadTimeout("read timeout", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "debtor.tar.gz"})
        if request.url.path.endswith("/webhook"):
            body = json.loads(request.content)
            return httpx.Response(200, json={"messages": [{"text": f"{base} {body['message']}"}], "intent": None})
        return httpx.Response(200, json={})

    def client(self, *urls: str) -> RasaClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return RasaClient(
            rasa_urls=list(urls or self.urls), action_server_url="http://127.0.0.1:5055", http=http,
            timeout=1, health_timeout=1,
        )  # fmt: skip


async def test_every_call_about_a_conversation_reaches_its_instance() -> None:
    fake = FakeRasas(A, B, C)
    client = fake.client()
    for sender in KEYS[:60]:
        owner = client.url_for(sender)
        reply = await client.send(sender=sender, text="hi", metadata={})
        assert reply.messages[0].text == f"{owner} hi"
        assert await client.set_paused(sender=sender, paused=True)
        assert await client.reset_tracker(sender=sender)
        assert {call[0] for call in fake.calls} == {owner}
        assert [c[2] for c in fake.calls][1:] == [f"/conversations/{sender}/tracker/events"] * 2
        fake.calls.clear()
    assert {client.url_for(s) for s in KEYS[:60]} == {A, B, C}


async def test_single_url_keeps_working() -> None:
    fake = FakeRasas(A)
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    client = RasaClient(rasa_url=A + "/", action_server_url="http://x:1", http=http, timeout=1, health_timeout=1)
    assert client.instances == (A,) and client.rasa_url == A
    assert (await client.send(sender="s", text="hi", metadata={})).messages[0].text == f"{A} hi"


async def test_a_down_instance_fails_over_to_the_next_on_the_ring() -> None:
    fake = FakeRasas(A, B, C)
    client = fake.client()
    sender = next(k for k in KEYS if HashRing([A, B, C]).node_for(k) == A)
    successor = client.ring.preference(sender)[1]
    fake.down.add(A)
    reply = await client.send(sender=sender, text="hi", metadata={})
    assert reply.messages[0].text == f"{successor} hi"
    assert await client.set_paused(sender=sender, paused=False)
    fake.down.clear()  # back: it owns the conversation again once the retry pause is over
    client._down_since[A] -= rasa_client.DOWN_RETRY_SECONDS
    assert (await client.send(sender=sender, text="again", metadata={})).messages[0].text == f"{A} again"


async def test_a_recently_refusing_instance_is_tried_last() -> None:
    fake = FakeRasas(A, B)
    client = fake.client()
    senders = [k for k in KEYS[:40] if client.url_for(k) == A]
    fake.down.add(A)
    for sender in senders:
        await client.send(sender=sender, text="hi", metadata={})
    assert {c[0] for c in fake.calls} == {B}  # A refused once, then was skipped
    statuses = await client.instance_statuses()
    assert [(s.url, s.up) for s in statuses] == [(A, False), (B, True)]


async def test_a_message_that_reached_rasa_is_never_sent_twice() -> None:
    """A read timeout may mean Rasa is processing it: no failover, the debtor gets the apology."""
    fake = FakeRasas(A, B)
    client = fake.client()
    sender = next(k for k in KEYS if client.url_for(k) == A)
    fake.slow.add(A)
    with pytest.raises(RasaUnavailable):
        await client.send(sender=sender, text="hi", metadata={})
    assert [c[0] for c in fake.calls] == [A]
    fake.down.update({A, B})
    with pytest.raises(RasaUnavailable):
        await client.send(sender=sender, text="hi", metadata={})
    assert not await client.set_paused(sender=sender, paused=True)
    assert not await client.reset_tracker(sender=sender)


async def test_status_is_per_instance_without_credentials() -> None:
    fake = FakeRasas("http://u:secret@127.0.0.1:5005", B)
    client = fake.client()
    assert await client.rasa_status() == (True, "2 instances: debtor.tar.gz")
    fake.down.add(B)
    up, detail = await client.rasa_status()
    assert not up and detail == f"1/2 down: {B} ConnectError"
    assert [s.url for s in await client.instance_statuses()] == [A, B]


def test_health_lists_every_instance_and_degrades_when_one_is_down(tmp_path: Path) -> None:
    fake = FakeRasas(A, B)
    fake.down.add(B)
    app = FastAPI()
    app.include_router(app_views.router)
    app.state.rasa = fake.client()
    app.state.sessionmaker = make_sessionmaker(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"))
    app.state.pipeline = SimpleNamespace(scorer=SimpleNamespace(mode="lexicon-only"))
    with TestClient(app) as client:
        body = client.get("/health").json()
        assert body["status"] == "degraded" and body["rasa"]["up"] is False
        assert body["rasa_instances"] == [
            {"url": A, "up": True, "detail": "debtor.tar.gz"},
            {"url": B, "up": False, "detail": "ConnectError"},
        ]
        fake.down.clear()
        body = client.get("/health").json()
        assert body["rasa"] == {"up": True, "detail": "2 instances: debtor.tar.gz"}
        assert [i["up"] for i in body["rasa_instances"]] == [True, True]


# --- the local sharded Procfile --------------------------------------------------------------


def test_sharded_procfile_repeats_rasa_on_consecutive_ports() -> None:
    procfile = (ROOT / "Procfile").read_text()
    sharded = sharded_procfile(procfile, 3)
    lines = dict(line.split(":", 1) for line in sharded.splitlines())
    others = {line.split(":", 1)[0] for line in procfile.splitlines()} - {"rasa"}
    assert set(lines) == {"rasa1", "rasa2", "rasa3"} | others
    for i, name in enumerate(("rasa1", "rasa2", "rasa3")):
        assert "bot/endpoints-sharded.yml" in lines[name] and "bot/endpoints.yml" not in lines[name]
        assert '--auth-token="$RASA_AUTH_TOKEN"' in lines[name]  # every instance behind the token
        port = subprocess.run(
            ["sh", "-c", "echo " + lines[name].split(" -p ", 1)[1].split()[0]],
            env={"RASA_PORT": "5005"}, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert port == str(5005 + i)
    assert sharded_procfile(procfile, 1).count("rasa1:") == 1
    with pytest.raises(ValueError):
        sharded_procfile("rasa: rasa run -p 5005\n", 2)


def test_sharded_procfile_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO((ROOT / "Procfile").read_text()))
    assert main(["procfile", "2"]) == 0
    assert "rasa2:" in capsys.readouterr().out
    assert main(["procfile"]) == 2
