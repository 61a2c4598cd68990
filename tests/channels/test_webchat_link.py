"""A first-contact link opens the web chat once (money/outreach/tokens.py), in-process with Rasa
faked at the HTTP edge: the reference is filled in through Rasa's tracker, the greeting is in the
debtor's language; a used, expired or unknown token just opens a plain chat (201, no error)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from engine.conversations.rasa_client import RasaClient
from locales import Catalog
from money.outreach.tokens import digest
from tests.channels.test_webchat_sessions import ACTIONS, RASA, FakeRasa, Gateway

REFERENCE = "LK-55501"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    database = tmp_path_factory.mktemp("webchat-link") / "gw.db"
    url = f"sqlite+aiosqlite:///{database}"
    migrate(url)
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO debtors (reference, name, date_of_birth, locale, timezone, country, preferred_channel, "
            "created_at) VALUES (?, 'Linnea Link', '1980-01-01', 'sv', 'Europe/Stockholm', 'SE', 'sms', "
            "'2026-01-01 00:00:00')",
            (REFERENCE,),
        )
    settings = GatewaySettings(database_url=url, rasa_url=RASA, action_server_url=ACTIONS, rate_limit_enabled=False)
    fake = FakeRasa(database)
    with TestClient(create_app(settings)) as client:
        http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
        client.app.state.pipeline.rasa = RasaClient(  # type: ignore[attr-defined]
            rasa_url=RASA, action_server_url=ACTIONS, http=http, timeout=5, health_timeout=1
        )
        yield Gateway(client=client, rasa=fake, database=database)


def token(gateway: Gateway, value: str, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    """A token as the sender stores it (only the hash)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(gateway.database) as db:
        [(debtor_id,)] = db.execute("SELECT id FROM debtors WHERE reference = ?", (REFERENCE,)).fetchall()
        db.execute(
            "INSERT INTO outreach_tokens (digest, debtor_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (digest(value), debtor_id, now.isoformat(" "), (now + expires_in).isoformat(" ")),
        )
    return value


def test_the_link_opens_the_chat_once_with_the_reference_filled_in(gateway: Gateway) -> None:
    link = token(gateway, "once-" + "a" * 40)
    first = gateway.client.post("/webchat/sessions", json={"link": link})
    assert first.status_code == 201
    greeting = Catalog().render("utter_outreach_link_opened", "sv").text
    assert [m["text"] for m in first.json()["messages"]] == [greeting]
    key = gateway.key(first.json()["session_id"])
    [(conversation_id, locale, debtor_id)] = gateway.sql(
        "SELECT id, locale, debtor_id FROM conversations WHERE channel = 'webchat' AND external_id = ?", key
    )
    assert locale == "sv" and debtor_id is None  # not linked: the date of birth is still asked
    assert (conversation_id, [{"event": "slot", "name": "reference", "value": REFERENCE}]) in gateway.rasa.events
    assert gateway.sql("SELECT conversation_key FROM outreach_tokens WHERE digest = ?", digest(link)) == [(key,)]

    events = len(gateway.rasa.events)
    second = gateway.client.post("/webchat/sessions", json={"link": link})  # used: a plain chat
    assert second.status_code == 201 and second.json()["messages"] == []
    assert len(gateway.rasa.events) == events
    chat = gateway.chat
    chat.ids["plain"] = second.json()["session_id"]
    assert chat.say("plain", "hello")  # a chat like any other


def test_expired_unknown_or_malformed_tokens_open_a_plain_chat(gateway: Gateway) -> None:
    expired = token(gateway, "late-" + "b" * 40, expires_in=-timedelta(minutes=1))
    for body in ({"link": expired}, {"link": "never-issued-" + "c" * 30}, {"link": "<script>"}, {}, None):
        response = gateway.client.post("/webchat/sessions", json=body) if body is not None else (
            gateway.client.post("/webchat/sessions")
        )  # fmt: skip
        assert response.status_code == 201, body
        assert response.json()["messages"] == [] and response.json()["session_id"]
