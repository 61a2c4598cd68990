"""Rasa's NLG endpoint fills a text's debt advice from the conversation's jurisdiction (a response a
rule sends directly, e.g. utter_arrangement_hardship_noted): the verified debtor's country, words in
the conversation's language; before verification the best guess for a stranger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from engine.conversations.models import Conversation
from people.debtors.models import Debtor

NLG_TOKEN = "nlg-token-for-jurisdiction-tests-0123456789"
KEY = "utter_arrangement_hardship_noted"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    db: Path = tmp_path_factory.mktemp("nlg") / "nlg.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)
    settings = GatewaySettings(database_url=url, nlg_token=NLG_TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client, db


def conversation(db: Path, *, country: str | None, channel: str = "webchat", address: str | None = None) -> str:
    """A conversation, verified as a debtor placed in `country` (None: nobody identified)."""
    with Session(create_engine(f"sqlite:///{db}")) as session:
        debtor_id = None
        if country is not None:
            debtor = Debtor(
                reference=f"NL-{uuid.uuid4().hex[:10]}", name="Nils Nlg", date_of_birth=date(1980, 1, 1),
                locale="sv", timezone="Europe/Berlin", country=country,
            )  # fmt: skip
            session.add(debtor)
            session.flush()
            debtor_id = debtor.id
        chat = Conversation(channel=channel, external_id=address or uuid.uuid4().hex, locale="en", debtor_id=debtor_id)
        session.add(chat)
        session.commit()
        return chat.id


def nlg(client: TestClient, sender: str, locale: str, **arguments: object) -> str:
    tracker = {"sender_id": sender, "slots": {"locale": locale}, "latest_message": {"metadata": {}}}
    body = {"response": KEY, "tracker": tracker, "arguments": arguments}
    reply = client.post("/nlg", json=body, headers={"Authorization": f"Bearer {NLG_TOKEN}"})
    assert reply.status_code == 200
    return str(reply.json()["text"])


def test_a_german_case_chatting_in_english_gets_the_german_advice_in_english(
    gateway: tuple[TestClient, Path],
) -> None:
    client, db = gateway
    text = nlg(client, conversation(db, country="DE"), "en")
    assert text.startswith("Thank you") and "Schuldnerberatung (Verbraucherzentrale)" in text
    assert "National Debtline" not in text and "{advice}" not in text


def test_a_stranger_gets_the_country_of_their_number_else_their_languages(gateway: tuple[TestClient, Path]) -> None:
    client, db = gateway
    by_number = nlg(client, conversation(db, country=None, channel="sms", address="+46701740642"), "de")
    assert by_number.startswith("Danke") and "Budget- och skuldrådgivningen" in by_number
    by_language = nlg(client, conversation(db, country=None), "pt-BR")
    assert "Procon" in by_language


def test_an_advice_given_by_the_caller_wins_and_an_unknown_conversation_is_a_stranger(
    gateway: tuple[TestClient, Path],
) -> None:
    client, db = gateway
    given = nlg(
        client, conversation(db, country="DE"), "en", advice={"name": "Citizens Advice", "phone": "0800 144 8848"}
    )
    assert "Citizens Advice (0800 144 8848)" in given and "Schuldnerberatung" not in given
    nobody = nlg(client, "no-such-conversation", "en")
    assert "National Debtline" in nobody and "{advice}" not in nobody  # English maps to GB
