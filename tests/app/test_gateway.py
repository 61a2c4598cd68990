"""The gateway in-process (no Rasa running): NLG endpoint, OpenAPI contract, degraded health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from locales import Catalog
from people.jurisdiction import service as jurisdiction
from tests.stack import free_port
from tests.webchat import WebchatClient

NLG_TOKEN = "nlg-token-for-gateway-tests-0123456789"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db: Path = tmp_path_factory.mktemp("gw") / "gw.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    settings = GatewaySettings(
        database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5, nlg_token=NLG_TOKEN
    )
    with TestClient(create_app(settings)) as client:
        yield client


def nlg(client: TestClient, response: str, **body: object) -> dict:
    reply = client.post("/nlg", json={"response": response, **body}, headers={"Authorization": f"Bearer {NLG_TOKEN}"})
    assert reply.status_code == 200
    return reply.json()  # type: ignore[no-any-return]


def test_nlg_uses_argument_then_slot_then_message_locale(client: TestClient) -> None:
    tracker = {"slots": {"locale": None}, "latest_message": {"metadata": {"locale": "de"}}}
    assert nlg(client, "utter_goodbye", tracker=tracker)["text"].startswith("Mach")
    tracker["slots"] = {"locale": "sv"}
    sv = nlg(client, "utter_goodbye", tracker=tracker)["text"]
    assert nlg(client, "utter_goodbye", tracker=tracker, arguments={"locale": "pt-BR"})["text"] != sv


def test_nlg_formats_a_balance_with_babel(client: TestClient) -> None:
    arguments = {
        "locale": "pt-BR",
        "debts": [
            {
                "creditor": "Loja Central",
                "reference": "LC-30512",
                "currency": "BRL",
                "due_date": "2026-10-10",
                "amount": "1250.00",
                "components": [{"kind": "principal", "amount": "1100.00"}, {"kind": "interest", "amount": "150.00"}],
            }
        ],
        "totals": [{"currency": "BRL", "amount": "1250.00"}],
    }
    text = nlg(client, "utter_balance", arguments=arguments)["text"].replace("\xa0", " ")
    assert (
        "R$ 1.250,00" in text and "R$ 1.100,00" in text and "juros: R$ 150,00" in text and "10 de out. de 2026" in text
    )


def test_nlg_unknown_response_falls_back_politely(client: TestClient) -> None:
    assert (
        nlg(client, "utter_does_not_exist", arguments={"locale": "en"})["text"]
        == nlg(client, "utter_default", arguments={"locale": "en"})["text"]
    )


def test_nlg_buttons(client: TestClient) -> None:
    buttons = nlg(client, "utter_greet", arguments={"locale": "sv"})["buttons"]
    assert buttons[0]["payload"] == "/check_balance" and buttons[0]["title"]


def test_openapi_documents_the_webchat_contract(client: TestClient) -> None:
    schema = client.app.openapi()  # type: ignore[attr-defined]  # served to staff only here (tests/app/test_docs.py)
    operation = schema["paths"]["/webchat/messages"]["post"]
    body = schema["components"]["schemas"]["WebchatIn"]
    assert {"session_id", "text"} <= set(body["required"])
    assert "200" in operation["responses"] and "/health" in schema["paths"]


def test_health_says_what_is_down(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded" and body["database"]["up"] is True
    assert body["rasa"]["up"] is False and body["action_server"]["up"] is False


def test_message_while_bot_is_down_is_answered_and_kept(client: TestClient) -> None:
    reply = WebchatClient(client.post).send("down", "hallo, ich habe eine frage zu meiner rechnung")
    assert reply.status_code == 200
    assert reply.json()["messages"] == [{"text": Catalog().text("utter_unavailable", "de"), "buttons": []}]


def test_websocket_round_trip_and_validation(client: TestClient) -> None:
    session_id = WebchatClient(client.post).new_session()
    with client.websocket_connect("/webchat/ws") as ws:
        ws.send_json({"type": "hello", "session_id": session_id})
        assert ws.receive_json() == {"type": "ready"}
        ws.send_json({"session_id": session_id, "text": ""})
        assert "text" in ws.receive_json()["error"]
        ws.send_text("not json")
        assert "error" in ws.receive_json()
        ws.send_json({"session_id": session_id, "text": "hello there, how are you"})
        assert ws.receive_json()["messages"][0]["text"]


def test_signs_of_self_harm_get_crisis_support_at_once_and_signals_are_stored(client: TestClient) -> None:
    reply = WebchatClient(client.post).send("crisis", "i cant cope anymore, i want to end my life")
    assert reply.status_code == 200
    # No bot needed (Rasa is down in this module): safety comes first and is answered locally.
    crisis_line = jurisdiction.crisis_arguments(jurisdiction.for_country("GB"))  # English on web chat: GB's
    expected = Catalog().render("utter_crisis_support", "en", None, crisis_line).text
    assert reply.json()["messages"] == [{"text": expected, "buttons": []}]
    assert client.get("/health").json()["signals"] == {"up": True, "detail": "lexicon-only"}
