"""Server-issued web chat sessions, in-process (issue 14 point 4): Rasa and the action server are
faked at the HTTP edge; the fake Rasa marks a conversation verified the way the action server
does (a write to the conversations table) when it is sent "VERIFY-ME"."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from channels.base import OutboundContext, Reply
from engine.conversations.rasa_client import RasaClient
from tests.webchat import WebchatClient, conversation_key, digest

RASA, ACTIONS = "http://rasa.test", "http://actions.test"
REPLY = "Fake assistant reply"


@dataclass
class FakeRasa:
    database: Path
    events: list[tuple[str, dict]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "actions.test":
            return httpx.Response(200, json={"status": "ok"})
        if request.url.path.endswith("/tracker/events"):
            self.events.append((request.url.path.split("/")[2], json.loads(request.content)))
            return httpx.Response(200, json={})
        body = json.loads(request.content)
        if body["message"] == "VERIFY-ME":  # what action_verify_identity writes on success
            with sqlite3.connect(self.database) as db:
                debtor = db.execute("SELECT id FROM debtors LIMIT 1").fetchone()
                db.execute(
                    "UPDATE conversations SET verified_at = ?, debtor_id = ? WHERE id = ?",
                    (datetime.now(UTC).replace(tzinfo=None).isoformat(" "), debtor[0] if debtor else None,
                     body["sender"]),
                )  # fmt: skip
        return httpx.Response(200, json={"messages": [{"text": REPLY}], "intent": {"name": "greet", "confidence": 1}})


@dataclass
class Gateway:
    client: TestClient
    rasa: FakeRasa
    database: Path

    @property
    def chat(self) -> WebchatClient:
        return WebchatClient(self.client.post)

    def sql(self, query: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.database) as db:
            return db.execute(query, args).fetchall()

    def key(self, session_id: str) -> str:
        with sqlite3.connect(self.database) as db:
            found = conversation_key(db, session_id)
        assert found
        return found


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    database = tmp_path_factory.mktemp("webchat-sessions") / "gw.db"
    url = f"sqlite+aiosqlite:///{database}"
    migrate(url)
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO debtors (reference, name, date_of_birth, locale, timezone, preferred_channel, created_at) "
            "VALUES ('WS-1', 'Test Person', '1980-01-01', 'en', 'Europe/London', 'webchat', '2026-01-01 00:00:00')"
        )
    settings = GatewaySettings(database_url=url, rasa_url=RASA, action_server_url=ACTIONS, rate_limit_enabled=False)
    fake = FakeRasa(database)
    with TestClient(create_app(settings)) as client:
        http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
        client.app.state.pipeline.rasa = RasaClient(  # type: ignore[attr-defined]
            rasa_url=RASA, action_server_url=ACTIONS, http=http, timeout=5, health_timeout=1
        )
        yield Gateway(client=client, rasa=fake, database=database)


def test_a_session_is_issued_with_at_least_128_random_bits(gateway: Gateway) -> None:
    created = gateway.client.post("/webchat/sessions")
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    session_id = created.json()["session_id"]
    assert len(base64.urlsafe_b64decode(session_id + "=" * (-len(session_id) % 4))) * 8 >= 128
    assert session_id != gateway.chat.new_session()
    # Only a hash is stored: the database holds no live id.
    assert gateway.sql("SELECT 1 FROM webchat_sessions WHERE token_hash = ?", digest(session_id))
    assert not gateway.sql("SELECT 1 FROM webchat_sessions WHERE token_hash = ? OR conversation_key = ?",
                           session_id, session_id)  # fmt: skip


def test_an_id_the_server_never_issued_is_refused_with_401(gateway: Gateway) -> None:
    refused = gateway.client.post("/webchat/messages", json={"session_id": "chosen-by-the-client", "text": "hi"})
    assert refused.status_code == 401 and refused.json() == {"detail": "session_unknown"}
    assert not gateway.sql("SELECT 1 FROM conversations WHERE external_id = 'chosen-by-the-client'")


def test_a_chat_keeps_its_contract_and_a_server_side_address(gateway: Gateway) -> None:
    chat = gateway.chat
    reply = chat.send("contract", "hello there")
    assert reply.status_code == 200 and reply.json() == {"messages": [{"text": REPLY, "buttons": []}]}
    session_id = chat.session("contract")
    key = gateway.key(session_id)
    assert key != session_id
    assert gateway.sql("SELECT COUNT(*) FROM conversations WHERE channel = 'webchat' AND external_id = ?", key) == [
        (1,)
    ]


def test_an_expired_id_is_refused_with_401(gateway: Gateway) -> None:
    chat = gateway.chat
    assert chat.say("idle", "hello")
    stale = (datetime.now(UTC) - timedelta(minutes=61)).replace(tzinfo=None).isoformat(" ")
    gateway.sql(
        "UPDATE webchat_sessions SET last_used_at = ? WHERE token_hash = ?", stale, digest(chat.session("idle"))
    )
    refused = chat.send("idle", "still there?")
    assert refused.status_code == 401 and refused.json() == {"detail": "session_expired"}
    assert chat.say("old", "hello")  # too old, however busy
    old = (datetime.now(UTC) - timedelta(hours=25)).replace(tzinfo=None).isoformat(" ")
    gateway.sql("UPDATE webchat_sessions SET created_at = ? WHERE token_hash = ?", old, digest(chat.session("old")))
    assert chat.send("old", "hello").status_code == 401


def test_the_id_is_rotated_after_verification_and_the_old_one_is_dead(gateway: Gateway) -> None:
    chat = gateway.chat
    assert chat.say("rotate", "hello")
    before = chat.session("rotate")
    key = gateway.key(before)
    verified = chat.send("rotate", "VERIFY-ME")
    assert verified.status_code == 200
    after = verified.json()["session_id"]
    assert after != before and chat.session("rotate") == after
    assert verified.json()["messages"] == [{"text": REPLY, "buttons": []}]
    assert gateway.key(after) == key  # the same conversation
    old = gateway.client.post("/webchat/messages", json={"session_id": before, "text": "hi"})
    assert old.status_code == 401
    again = chat.send("rotate", "what do I owe")
    assert again.status_code == 200 and "session_id" not in again.json()


def test_verification_lapses_after_the_idle_time_here_and_in_rasa(gateway: Gateway) -> None:
    chat = gateway.chat
    assert chat.say("lapse", "VERIFY-ME")
    key = gateway.key(chat.session("lapse"))
    [(conversation_id, verified_at)] = gateway.sql(
        "SELECT id, verified_at FROM conversations WHERE external_id = ?", key
    )
    assert verified_at
    chat.say("lapse", "something else")  # within 15 minutes: still verified
    assert gateway.sql("SELECT verified_at FROM conversations WHERE id = ?", conversation_id)[0][0]
    idle = (datetime.now(UTC) - timedelta(minutes=16)).replace(tzinfo=None).isoformat(" ")
    gateway.sql("UPDATE conversations SET last_inbound_at = ? WHERE id = ?", idle, conversation_id)
    assert chat.say("lapse", "how much do I owe")
    assert gateway.sql("SELECT verified_at, debtor_id FROM conversations WHERE id = ?", conversation_id) == [
        (None, None)
    ]
    assert (conversation_id, {"event": "slot", "name": "verified", "value": False}) in gateway.rasa.events


def test_end_chat_forgets_the_session(gateway: Gateway) -> None:
    chat = gateway.chat
    assert chat.say("end", "hello")
    session_id = chat.session("end")
    assert gateway.client.post("/webchat/sessions/end", json={"session_id": session_id}).status_code == 204
    assert chat.send("end", "hello again").status_code == 401
    assert not gateway.sql("SELECT 1 FROM webchat_sessions WHERE token_hash = ?", digest(session_id))
    assert gateway.client.post("/webchat/sessions/end", json={"session_id": session_id}).status_code == 204


def test_a_socket_says_hello_in_a_frame_never_in_the_url(gateway: Gateway) -> None:
    session_id = gateway.chat.new_session()
    with gateway.client.websocket_connect("/webchat/ws") as ws:
        ws.send_json({"type": "hello", "session_id": session_id})
        assert ws.receive_json() == {"type": "ready"}
        ws.send_json({"text": ""})
        assert "text" in ws.receive_json()["error"]
        ws.send_json({"text": "hello there"})
        assert ws.receive_json() == {"messages": [{"text": REPLY, "buttons": []}]}
        ws.send_json({"session_id": session_id, "text": "and again"})
        assert ws.receive_json()["messages"]


def test_a_socket_refuses_unknown_ids_and_frames_without_hello(gateway: Gateway) -> None:
    with gateway.client.websocket_connect("/webchat/ws") as ws:
        ws.send_json({"type": "hello", "session_id": "chosen-by-the-client"})
        assert ws.receive_json() == {"error": "session_unknown"}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    with gateway.client.websocket_connect("/webchat/ws") as ws:
        ws.send_json({"session_id": gateway.chat.new_session(), "text": "hi"})  # the old protocol
        assert ws.receive_json()["error"] == "hello_required"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_a_socket_cannot_write_or_read_for_another_session(gateway: Gateway) -> None:
    chat = gateway.chat
    mine, theirs = chat.session("socket-mine"), chat.session("socket-theirs")
    assert chat.say("socket-theirs", "hello")
    their_messages = gateway.sql(
        "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.external_id = ?",
        gateway.key(theirs),
    )
    with gateway.client.websocket_connect("/webchat/ws") as ws:
        ws.send_json({"type": "hello", "session_id": mine})
        assert ws.receive_json() == {"type": "ready"}
        ws.send_json({"session_id": theirs, "text": "written into their chat"})
        assert ws.receive_json() == {"error": "session_mismatch"}
        assert (
            gateway.sql(
                "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.external_id = ?",
                gateway.key(theirs),
            )
            == their_messages
        )
        # A push to the other session (an agent's reply, a receipt) never reaches this socket.
        with gateway.client.websocket_connect("/webchat/ws") as other:
            other.send_json({"type": "hello", "session_id": theirs})
            assert other.receive_json() == {"type": "ready"}
            connections = gateway.client.app.state.webchat_connections  # type: ignore[attr-defined]
            context = OutboundContext(locale="en")
            push = gateway.client.portal.call(  # type: ignore[union-attr]
                lambda: connections.send(to=gateway.key(theirs), reply=Reply("for them only"), context=context)
            )
            assert push[0].status == "sent"
            assert other.receive_json()["messages"][0]["text"] == "for them only"
        ws.send_json({"text": "mine"})
        assert ws.receive_json() == {"messages": [{"text": REPLY, "buttons": []}]}  # not their push


def test_ending_the_chat_closes_its_sockets(gateway: Gateway) -> None:
    session_id = gateway.chat.new_session()
    with gateway.client.websocket_connect("/webchat/ws") as ws:
        ws.send_json({"type": "hello", "session_id": session_id})
        assert ws.receive_json() == {"type": "ready"}
        assert gateway.client.post("/webchat/sessions/end", json={"session_id": session_id}).status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_the_schema_documents_sessions_and_the_401(gateway: Gateway) -> None:
    schema = gateway.client.app.openapi()  # type: ignore[attr-defined]  # (the URL is staff-only outside demo)
    assert "201" in schema["paths"]["/webchat/sessions"]["post"]["responses"]
    assert {"200", "401", "429"} <= set(schema["paths"]["/webchat/messages"]["post"]["responses"])
    assert "204" in schema["paths"]["/webchat/sessions/end"]["post"]["responses"]
