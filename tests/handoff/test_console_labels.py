"""The agent console's run-time strings (handoff/static/console.js): every label the script looks up
exists in en, sv, de and pt-BR with the same placeholders, every code the API sends has a label,
the page hands the staff member's language to the script in its JSON data island, and no English
UI text is left in the script — in-process, no Rasa."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from core.database import make_engine
from engine.signals.lexicon import CATEGORIES
from handoff import config as handoff_config
from handoff.models import Reason, State, Status
from locales.catalog import SUPPORTED_LOCALES
from locales.pages import all_labels
from money.disputes.models import DisputeReason, DisputeStatus
from money.hardship.models import HardshipOption
from money.holds.models import HoldReason
from people.auth import deps
from people.auth import service as auth_service
from tests.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "handoff" / "static" / "console.js"
LOOKUP = re.compile(r"\bL((?:\.[a-z_]+)+)")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
ISLAND = re.compile(r'<script type="application/json" id="labels">(.*?)</script>', re.S)
PASSWORD = "a long enough password"

# Rough but strict enough: quoted text that reads like a sentence or a capitalized UI word.
COMMENT = re.compile(r"/\*.*?\*/|(?:^|\s)//[^\n]*", re.S)
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
FUNCTION_WORDS = set(
    [
        "the",
        "to",
        "via",
        "by",
        "with",
        "of",
        "and",
        "not",
        "no",
        "is",
        "are",
        "you",
        "your",
        "please",
        "an",
        "for",
        "from",
        "this",
        "that",
        "again",
    ]
)
PROTOCOL = {"Accept", "Content-Type", "X-CSRF-Token", "GET", "POST", "Enter", "Escape"}


def english_literals(source: str) -> list[str]:
    """String literals (comments removed) that look like English UI text rather than code."""
    found = []
    for match in LITERAL.finditer(COMMENT.sub(" ", source)):
        text = match.group(1) if match.group(1) is not None else match.group(2)
        words = [w.lower() for w in text.split(" ") if re.fullmatch(r"[A-Za-z']+[.,:…!?]?", w)]
        phrase = " " in text and FUNCTION_WORDS & {w.strip(".,:…!?") for w in words}  # also "via " + …
        sentence = phrase or (len(words) > 1 and text[-1] in ".!?…")
        capitalized = re.fullmatch(r"[A-Z][a-z]+(?: [A-Za-z]+)*[.…]?", text) and text not in PROTOCOL
        if sentence or capitalized:
            found.append(text)
    return found


def lookups(source: str) -> set[tuple[str, ...]]:
    """Every `L.key` / `L.map.key` path the script reads."""
    return {tuple(match.group(1).strip(".").split(".")) for match in LOOKUP.finditer(source)}


def placeholders(tree: dict[str, Any], prefix: str = "") -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found |= placeholders(value, f"{prefix}{key}.")
        else:
            found[f"{prefix}{key}"] = set(PLACEHOLDER.findall(str(value)))
    return found


def test_every_label_the_script_reads_exists_in_every_locale() -> None:
    used = lookups(SCRIPT.read_text(encoding="utf-8"))
    assert len(used) > 100 and ("errors", "not_found") in used and ("agents_online",) in used
    for locale in SUPPORTED_LOCALES:
        labels = all_labels(locale)["console"]
        for path in used:
            node: Any = labels
            for key in path:
                assert isinstance(node, dict) and key in node, (locale, ".".join(path))
                node = node[key]


def test_translations_keep_the_placeholders_and_plural_forms() -> None:
    english = all_labels("en")["console"]
    for locale in SUPPORTED_LOCALES:
        labels = all_labels(locale)["console"]
        assert placeholders(labels) == placeholders(english), locale
        assert {"one", "other"} <= set(labels["agents_online"]), locale


def test_every_code_the_api_sends_has_a_label() -> None:
    codes: dict[str, set[str]] = {
        "reasons": {*Reason, "hand_back"},
        "states": set(State),
        "case_status": set(Status),
        "dispute_reasons": set(DisputeReason),
        "dispute_status": set(DisputeStatus),
        "hardship_options": set(HardshipOption),
        "holds": set(HoldReason),
        "outcomes": set(handoff_config.load().outcomes),
        "cues": set(CATEGORIES),
        "channels": {"webchat", "sms", "whatsapp", "telegram"},
    }
    for locale in SUPPORTED_LOCALES:
        labels = all_labels(locale)["console"]
        for group, expected in codes.items():
            assert expected <= set(labels[group]), (locale, group, expected - set(labels[group]))


def test_no_english_ui_text_is_left_in_the_script() -> None:
    assert english_literals('x("Take over"); y("Live"); z("via ")') == ["Take over", "Live", "via "]
    assert english_literals(SCRIPT.read_text(encoding="utf-8")) == []


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('console') / 'console.db'}"
    migrate(url)

    async def prepare() -> None:
        engine = make_engine(url)
        async with AsyncSession(engine) as session:
            await auth_service.create_user(
                session=session, username="kim@example.org", password=PASSWORD, display_name="Kim"
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(prepare())
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5, assistant_env="demo"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def island(html: str) -> dict[str, Any]:
    found = ISLAND.findall(html)
    assert len(found) == 1
    data: dict[str, Any] = json.loads(found[0])
    return data


def test_the_console_hands_the_staff_members_language_to_its_script(client: TestClient) -> None:
    before = client.get("/agent", headers={"Accept-Language": "sv-SE,en;q=0.5"})  # not signed in: the browser's
    assert before.status_code == 401 and island(before.text) == all_labels("sv")["console"]

    login = client.post("/agent/api/login", json={"username": "kim@example.org", "password": PASSWORD})
    assert login.status_code == 200, login.text
    csrf = login.json()["csrf_token"]
    saved = client.post("/agent/api/me/locale", json={"locale": "de"}, headers={deps.CSRF_HEADER: csrf})
    assert saved.status_code == 200

    page = client.get("/agent", headers={"Accept-Language": "en"})  # the saved choice wins
    assert page.status_code == 200 and '<html lang="de">' in page.text
    labels = island(page.text)
    assert labels == all_labels("de")["console"]
    assert labels["errors"]["already_taken"] == "Ein anderer Sachbearbeiter hat dieses Gespräch bereits übernommen."
    assert labels["reasons"]["request_human"] != all_labels("en")["console"]["reasons"]["request_human"]
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
