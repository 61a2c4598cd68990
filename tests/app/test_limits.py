"""Abuse limits on the whole gateway (create_app, in-process, no Rasa): web chat per session, per IP
and per WebSocket connection; provider webhooks per verified sender and per IP of failed
signatures; X-Forwarded-For from trusted proxies only; body sizes; Redis shared by replicas."""

from __future__ import annotations

import itertools
import json
import sqlite3
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.testclient import WebSocketDenialResponse

from app import worker
from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from locales import Catalog
from tests.engine.abuse.test_limiter import REDIS_URL, redis_up
from tests.fakes.twilio_server import inbound_form, signed
from tests.stack import free_port
from tests.webchat import WebchatClient

PUBLIC = "https://collect.example.org"
TOKEN = "twilio-token-for-limit-tests-0123456789"
TG_TOKEN = "123456:limit-tests-telegram-token"
NLG_TOKEN = "nlg-token-for-limit-tests-0123456789"
TG_SECRET = "tg-secret-for-limit-tests"
SMS_NUMBER = "+46700000000"
numbers = itertools.count(1)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = tmp_path_factory.mktemp("limits") / "limits.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(autouse=True)
def no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored is what counts here; nobody needs to answer (Rasa is not running)."""

    async def nothing(conversation_id: str) -> None:
        return None

    monkeypatch.setattr(worker, "enqueue", nothing)


@contextmanager
def gateway(database: Path, client: tuple[str, int] = ("203.0.113.10", 50000), **limits: Any) -> Iterator[TestClient]:
    # Exact counts: the sliding-window counter forgives part of the previous minute's hits when a
    # test's requests straddle a minute boundary (a 429 expected on the third hit became a 201 in CI).
    limits.setdefault("rate_limit_strategy", "moving-window")
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=f"sqlite+aiosqlite:///{database}",
        rasa_url=dead,
        action_server_url=dead,
        health_timeout_seconds=0.5,
        rasa_timeout_seconds=0.5,
        public_base_url=PUBLIC,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=SecretStr(TOKEN),
        twilio_sms_from=SMS_NUMBER,
        telegram_bot_token=SecretStr(TG_TOKEN),
        telegram_webhook_secret=SecretStr(TG_SECRET),
        telegram_base_url=dead,
        nlg_token=SecretStr(NLG_TOKEN),
        **limits,
    )
    with TestClient(create_app(settings), client=client) as test_client:
        yield test_client


def new_number() -> str:
    return f"+46731{next(numbers):06d}"


def stored(database: Path, sender: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM inbound_events WHERE sender = ?", (sender,)).fetchone()[0])


def sms(client: TestClient, sender: str, *, forged: bool = False, headers: dict[str, str] | None = None) -> Any:
    form = inbound_form(channel="sms", from_=sender, to=SMS_NUMBER, body="hello")
    params, signature = signed(PUBLIC + "/channels/twilio/sms", form, TOKEN)
    if forged:  # another first character (a signature may itself start with any one)
        signature = ("y" if signature.startswith("x") else "x") + signature[1:]
    return client.post(
        "/channels/twilio/sms", data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}
    )


def telegram(client: TestClient, chat_id: int, *, secret: str = TG_SECRET) -> Any:
    update = {
        "update_id": next(numbers),
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "A", "language_code": "sv"},
            "text": "hej",
        },
    }
    return client.post("/channels/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})


_chats: weakref.WeakKeyDictionary[TestClient, WebchatClient] = weakref.WeakKeyDictionary()


def chat(client: TestClient) -> WebchatClient:
    """Issued web chat sessions per gateway, by label."""
    return _chats.setdefault(client, WebchatClient(client.post))


def say(client: TestClient, label: str, locale: str | None = None) -> Any:
    return chat(client).send(label, "hi", locale=locale)


def hello(socket: Any, session_id: str) -> None:
    socket.send_text(json.dumps({"type": "hello", "session_id": session_id}))
    assert socket.receive_json() == {"type": "ready"}


def assert_retry_after(reply: Any) -> None:
    assert reply.status_code == 429
    assert 1 <= int(reply.headers["Retry-After"]) <= 3600


# --- web chat ---------------------------------------------------------------------------------


def test_a_web_chat_session_over_its_limit_is_told_politely_in_its_language(database: Path) -> None:
    with gateway(database, rate_limit_webchat_session="2/minute") as client:
        assert [say(client, "session-de-1", "de").status_code for _ in range(2)] == [200, 200]
        refused = say(client, "session-de-1", "de")
        assert_retry_after(refused)
        body = refused.json()
        assert body["error"] == body["detail"] == "rate_limited"
        assert body["messages"][0]["text"] == Catalog().render("utter_rate_limited", "de").text
        assert say(client, "session-other", "sv").status_code == 200  # another session is not affected
        with client.websocket_connect("/webchat/ws") as socket:  # the socket shares the session's budget
            hello(socket, chat(client).session("session-de-1"))
            socket.send_text(json.dumps({"text": "hi", "locale": "pt-BR"}))
            frame = socket.receive_json()
        assert frame["error"] == "rate_limited" and frame["retry_after"] >= 1
        assert frame["messages"][0]["text"] == Catalog().render("utter_rate_limited", "pt-BR").text


def test_the_web_chat_ip_limit_counts_every_session_and_transport(database: Path) -> None:
    with gateway(database, rate_limit_webchat_ip="3/minute") as client:
        assert say(client, "ip-session-a").status_code == 200
        assert say(client, "ip-session-b").status_code == 200
        with client.websocket_connect("/webchat/ws") as socket:
            hello(socket, chat(client).session("ip-session-c"))
            socket.send_text(json.dumps({"text": "hi"}))
            assert "messages" in socket.receive_json()
            socket.send_text(json.dumps({"text": "hi"}))
            assert socket.receive_json()["error"] == "rate_limited"
        assert_retry_after(say(client, "ip-session-e"))
        assert (
            chat(client).post("/webchat/messages", json={"session_id": "never-issued", "text": "hi"}).status_code == 401
        )
    with gateway(database, client=("203.0.113.99", 1), rate_limit_webchat_ip="3/minute") as other:
        assert say(other, "ip-session-e").status_code == 200  # another IP has its own budget


def test_web_chat_sessions_created_per_ip(database: Path) -> None:
    with gateway(database, rate_limit_webchat_sessions_ip="2/minute") as client:
        assert [client.post("/webchat/sessions").status_code for _ in range(2)] == [201, 201]
        assert_retry_after(client.post("/webchat/sessions"))
    with gateway(database, client=("203.0.113.98", 1), rate_limit_webchat_sessions_ip="2/minute") as other:
        assert other.post("/webchat/sessions").status_code == 201  # another IP has its own budget


def test_websocket_connections_per_ip(database: Path) -> None:
    with gateway(database, rate_limit_webchat_connect_ip="2/minute") as client:
        for _ in range(2):
            with client.websocket_connect("/webchat/ws"):
                pass
        with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/webchat/ws"):
            pass
        assert_retry_after(denied.value)


# --- provider webhooks --------------------------------------------------------------------------


def test_a_verified_sender_over_its_limit_is_not_acknowledged_and_not_stored(database: Path) -> None:
    debtor, other = new_number(), new_number()
    with gateway(database, rate_limit_sender="2/minute") as client:
        assert [sms(client, debtor).status_code for _ in range(2)] == [200, 200]
        refused = sms(client, debtor)
        assert_retry_after(refused)
        assert refused.json() == {"detail": "too_many_requests"}
        assert stored(database, debtor) == 2
        assert sms(client, other).status_code == 200  # per sender, not per IP
        assert [telegram(client, 4242).status_code for _ in range(3)] == [200, 200, 429]
        assert stored(database, "4242") == 2


def test_verified_webhooks_from_one_ip_are_never_limited_by_ip(database: Path) -> None:
    """Twilio delivers everyone's SMS from a few addresses: only failed checks count per IP."""
    with gateway(database, rate_limit_webhook_failures_ip="3/minute") as client:
        senders = [new_number() for _ in range(25)]
        assert {sms(client, sender).status_code for sender in senders} == {200}
        assert all(stored(database, sender) == 1 for sender in senders)


def test_repeated_failed_signatures_shut_the_ip_out_of_every_webhook(database: Path) -> None:
    debtor = new_number()
    with gateway(database, rate_limit_webhook_failures_ip="3/minute") as client:
        assert [sms(client, debtor, forged=True).status_code for _ in range(2)] == [403, 403]
        assert telegram(client, 77, secret="guess").status_code == 403  # one budget for all webhooks
        assert_retry_after(sms(client, debtor, forged=True))
        assert_retry_after(sms(client, debtor))  # now even a valid signature: no oracle for guessing
        assert_retry_after(telegram(client, 77))
        assert stored(database, debtor) == 0 and stored(database, "77") == 0
        elsewhere = TestClient(client.app, client=("198.51.100.200", 1))  # same app (state), another IP
        assert sms(elsewhere, debtor).status_code == 200
        assert say(client, "webchat-after-forgeries").status_code == 200  # the web chat is another budget


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(database: Path) -> None:
    proxy = ("10.0.0.2", 40000)
    with gateway(database, client=proxy, trusted_proxies="10.0.0.0/8", rate_limit_webhook_failures_ip="2/minute") as c:
        attacker = {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}  # the client wrote 1.2.3.4, the proxy the rest
        assert [sms(c, new_number(), forged=True, headers=attacker).status_code for _ in range(2)] == [403, 403]
        assert sms(c, new_number(), forged=True, headers=attacker).status_code == 429
        assert sms(c, new_number(), headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 200  # another client
    with gateway(database, client=("203.0.113.50", 1), rate_limit_webhook_failures_ip="2/minute") as c:
        for n in range(2):  # not behind a trusted proxy: a made-up header changes nothing
            assert sms(c, new_number(), forged=True, headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code == 403
        assert sms(c, new_number(), forged=True, headers={"X-Forwarded-For": "192.0.2.99"}).status_code == 429


def test_limits_can_be_switched_off(database: Path) -> None:
    debtor = new_number()
    settings: dict[str, Any] = {
        "rate_limit_enabled": False,
        "rate_limit_sender": "1/minute",
        "rate_limit_webchat_session": "1/minute",
    }
    with gateway(database, rate_limit_webhook_failures_ip="1/minute", **settings) as client:
        assert {sms(client, debtor).status_code for _ in range(5)} == {200}
        assert {sms(client, debtor, forged=True).status_code for _ in range(3)} == {403}
        assert 429 not in {say(client, "switched-off-1").status_code for _ in range(3)}


@pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_replicas_share_the_counts_through_redis(database: Path) -> None:
    debtor = f"+4673{uuid.uuid4().int % 10**8:08d}"  # Redis outlives test runs: a number never used before
    shared: dict[str, Any] = {"rate_limit_storage_url": REDIS_URL, "rate_limit_sender": "3/minute"}
    with gateway(database, **shared) as one, gateway(database, **shared) as two:
        assert [sms(one, debtor).status_code, sms(two, debtor).status_code, sms(one, debtor).status_code] == [200] * 3
        assert sms(two, debtor).status_code == 429


# --- body size ----------------------------------------------------------------------------------


def test_bodies_over_the_limit_are_413_and_larger_only_where_needed(database: Path) -> None:
    with gateway(database) as client:
        big = {"session_id": "body-size-1", "text": "x" * 9000, "padding": "y" * 70_000}
        assert client.post("/webchat/messages", json=big).status_code == 413
        streamed = client.post(
            "/webchat/messages",
            content=iter([b'{"session_id": "body-size-1", "text": "', b"x" * 70_000, b'"}']),
            headers={"content-type": "application/json"},
        )
        assert "content-length" not in streamed.request.headers and streamed.status_code == 413
        assert sms(client, new_number()).status_code == 200  # ordinary webhooks fit
        tracker = {"events": [{"event": "user", "text": "x" * 1000} for _ in range(600)]}  # ~630 KB
        nlg = client.post(
            "/nlg",
            json={"response": "utter_goodbye", "tracker": tracker},
            headers={"Authorization": f"Bearer {NLG_TOKEN}"},
        )
        assert nlg.status_code == 200 and nlg.json()["text"]
