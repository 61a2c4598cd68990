"""The texts-and-tone admin API and the NLG endpoint together, in-process (no Rasa), on SQLite
and PostgreSQL: an admin's edit is what Rasa gets next; tone order; segments; authz."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from core.database import make_engine
from engine.conversations.models import Conversation
from locales import Catalog
from people.auth import deps
from people.auth import service as auth_service
from people.auth.models import Role
from people.debtors.models import Debtor
from people.debtors.seed import seed_demo
from tests.databases import fresh_postgres
from tests.handoff.test_authz import api_routes
from tests.stack import free_port

PASSWORD = "a long enough password"
PREFIX = "/agent/api/admin/tone"
PG_DATABASE = "debtor_assistant_tone_api"
files = Catalog()


async def _prepare(url: str) -> None:
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        await seed_demo(session=session)
        for name, role in (("agent", Role.AGENT), ("admin", Role.ADMIN)):
            await auth_service.create_user(
                session=session, username=f"{name}@example.org", password=PASSWORD, display_name=f"Ada {name}",
                role=role,
            )  # fmt: skip
        await session.commit()
    await engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('tone') / 'tone.db'}"
    else:
        url = asyncio.run(fresh_postgres(PG_DATABASE))
    migrate(url)
    asyncio.run(_prepare(url))
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5, nlg_token=NLG_TOKEN
    )
    with TestClient(create_app(settings)) as client:
        client.app.state.test_database_url = url  # type: ignore[attr-defined]
        yield client


NLG_TOKEN = "nlg-token-for-tone-tests-0123456789"  # Rasa's, as bot/endpoints.yml sends it


class As:
    """Requests as one staff member (cookie + CSRF header), as the admin page makes them."""

    def __init__(self, client: TestClient, who: str) -> None:
        self.client = client
        client.cookies.clear()
        login = client.post("/agent/api/login", json={"username": f"{who}@example.org", "password": PASSWORD})
        assert login.status_code == 200, login.text
        self.cookie, self.csrf = login.cookies[deps.STAFF_COOKIE], login.json()["csrf_token"]

    def __call__(self, method: str, path: str, body: Any = None, *, csrf: bool = True) -> Any:
        self.client.cookies.clear()
        self.client.cookies.set(deps.STAFF_COOKIE, self.cookie, path="/agent")
        headers = {deps.CSRF_HEADER: self.csrf} if csrf else {}
        return self.client.request(method, f"{PREFIX}{path}", json=body, headers=headers)


def nlg(client: TestClient, response: str, *, sender: str | None = None, **arguments: Any) -> dict[str, Any]:
    tracker = {"sender_id": sender, "slots": {}, "latest_message": {"metadata": {}}} if sender else {}
    body = {"response": response, "arguments": arguments, "tracker": tracker}
    reply = client.post("/nlg", json=body, headers={"Authorization": f"Bearer {NLG_TOKEN}"})
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def conversation_for(client: TestClient, reference: str) -> str:
    """A verified conversation of a demo debtor, written the way the gateway would."""

    async def run() -> str:
        engine = make_engine(client.app.state.test_database_url)  # type: ignore[attr-defined]
        async with AsyncSession(engine) as session:
            debtor = await session.scalar(select(Debtor).where(Debtor.reference == reference))
            assert debtor is not None
            row = Conversation(channel="webchat", external_id=f"tone-{reference}-{free_port()}", debtor_id=debtor.id)
            session.add(row)
            await session.flush()
            conversation_id = row.id
            await session.commit()
        await engine.dispose()
        return conversation_id

    return asyncio.run(run())


def test_an_admins_edit_is_what_rasa_gets_next_and_rollback_restores_it(client: TestClient) -> None:
    admin = As(client, "admin")
    original = nlg(client, "utter_greet", locale="en")
    assert original["text"] == files.text("utter_greet", "en", "empathetic")

    titles = ["My balance", "Pay now", "A plan", "A person"]
    saved = admin(
        "PUT", "/texts/en/utter_greet/empathetic", {"text": "Hiya! What can I do for you?", "buttons": titles}
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["overridden"] and body["current"]["text"] == "Hiya! What can I do for you?"
    assert body["default"]["text"] == original["text"] and body["version"]["author"] == "Ada admin"
    edited = nlg(client, "utter_greet", locale="en")
    assert edited["text"] == "Hiya! What can I do for you?"
    assert [b["title"] for b in edited["buttons"]] == titles
    assert [b["payload"] for b in edited["buttons"]] == [b["payload"] for b in original["buttons"]]
    assert nlg(client, "utter_greet", locale="en", tone="formal")["text"] == files.text("utter_greet", "en", "formal")
    assert nlg(client, "utter_greet", locale="sv")["text"] == files.text("utter_greet", "sv")

    second = admin("PUT", "/texts/en/utter_greet/empathetic", {"text": "Hello again! How can I help?"})
    assert second.status_code == 200
    assert nlg(client, "utter_greet", locale="en")["text"] == "Hello again! How can I help?"
    assert [b["title"] for b in nlg(client, "utter_greet", locale="en")["buttons"]] == [
        b["title"] for b in original["buttons"]
    ]

    history = admin("GET", "/texts/en/utter_greet/empathetic/history").json()["versions"]
    assert [v["text"] for v in history] == ["Hello again! How can I help?", "Hiya! What can I do for you?"]
    back = admin("POST", f"/text-versions/{history[1]['id']}/rollback")
    assert back.status_code == 200 and back.json()["version"]["restored_from_id"] == history[1]["id"]
    assert nlg(client, "utter_greet", locale="en")["text"] == "Hiya! What can I do for you?"

    reset = admin("POST", "/texts/en/utter_greet/empathetic/reset")
    assert reset.status_code == 200 and not reset.json()["overridden"]
    assert nlg(client, "utter_greet", locale="en") == original
    actions = [v["action"] for v in admin("GET", "/texts/en/utter_greet/empathetic/history").json()["versions"]]
    assert actions == ["reset", "rollback", "edit", "edit"]


def test_refusals_are_clear(client: TestClient) -> None:
    admin = As(client, "admin")
    wrong = admin("PUT", "/texts/en/utter_handoff_offline/formal", {"text": "Back at {time}, {name}."})
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == {
        "code": "placeholders", "missing": ["until"], "unknown": ["name", "time"], "expected": ["until"],
    }  # fmt: skip
    assert admin("PUT", "/texts/en/utter_greet/formal", {"text": " "}).json()["detail"] == "empty_text"
    too_long = admin("PUT", "/texts/en/utter_greet/formal", {"text": "x" * 1001}).json()["detail"]
    assert too_long["code"] == "too_long" and too_long["max"] == 1000
    assert admin("PUT", "/texts/en/utter_nope/formal", {"text": "Hi"}).status_code == 404
    assert admin("PUT", "/texts/fr/utter_greet/formal", {"text": "Salut"}).json()["detail"] == "unknown_locale"
    assert admin("GET", "/texts/fr/utter_greet").status_code == 404
    assert admin("GET", "/texts/en/utter_nope").json()["detail"] == "unknown_key"
    assert admin("POST", "/text-versions/99999/rollback").status_code == 404
    assert admin("PUT", "/texts/en/utter_greet/formal", {"nope": 1}).status_code == 422
    assert admin("PUT", "/defaults/en", {"tone": "casual"}).json()["detail"]["code"] == "unknown_tone"
    assert admin("PUT", "/defaults/en/segments/Not%20OK", {"tone": "formal"}).json()["detail"]["code"] == (
        "invalid_segment"
    )
    assert admin("PUT", "/segments/assignments", {"reference": "XX-1", "segment": "vip"}).status_code == 404
    # Nothing was stored by any of them.
    assert admin("GET", "/texts/en/utter_handoff_offline/formal/history").json()["versions"] == []


def test_search_detail_samples_and_preview(client: TestClient) -> None:
    admin = As(client, "admin")
    found = admin("GET", "/texts?locale=de&q=ratenplan").json()["items"]
    assert found and all(set(i) >= {"key", "variants", "edited", "text"} for i in found)
    assert [i["key"] for i in admin("GET", "/texts?locale=en&q=utter_greet").json()["items"]] == ["utter_greet"]
    plain = admin("GET", "/texts/en/channel_name_sms").json()
    assert plain["plain"] and [v["tone"] for v in plain["variants"]] == ["plain"]

    detail = admin("GET", "/texts/de/utter_promise_recorded").json()
    assert [v["tone"] for v in detail["variants"]] == ["empathetic", "formal"]
    assert detail["variants"][0]["placeholders"] == ["amount_money", "due_date"]
    samples = admin("GET", "/samples/de/utter_promise_recorded").json()["arguments"]
    assert samples["amount_money"]["currency"] == "EUR" and re.match(r"\d{4}-\d\d-\d\d$", samples["due_date"])

    arguments = {"amount_money": {"amount": "1234.5", "currency": "EUR"}, "due_date": "2026-12-24"}
    draft = admin("POST", "/preview", {"locale": "de", "key": "utter_promise_recorded", "tone": "formal",
                                       "text": "Notiert: {amount_money} bis {due_date}.", "arguments": arguments})  # fmt: skip
    assert draft.status_code == 200, draft.text
    assert draft.json()["text"].replace("\xa0", " ") == "Notiert: 1.234,50 € bis 24.12.2026."
    bad = admin("POST", "/preview", {"locale": "de", "key": "utter_promise_recorded", "tone": "formal",
                                     "text": "Notiert: {betrag}."})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"]["unknown"] == ["betrag"]
    current = admin("POST", "/preview", {"locale": "de", "key": "utter_promise_recorded", "tone": "formal",
                                         "source": "current", "arguments": arguments})  # fmt: skip
    expected = files.render("utter_promise_recorded", "de", "formal", arguments).text
    assert current.json()["text"] == expected
    balance = admin("POST", "/preview", {"locale": "sv", "key": "utter_balance", "tone": "empathetic",
                                         "source": "default"}).json()["text"]  # fmt: skip
    assert "4 250,00 kr" in balance.replace("\xa0", " ")  # the demo debtor's total, formatted by Babel
    broken = admin("POST", "/preview", {"locale": "de", "key": "utter_promise_recorded", "tone": "formal",
                                        "source": "current", "arguments": {"amount_money": {"amount": "x"}}})  # fmt: skip
    assert broken.status_code == 422 and broken.json()["detail"]["code"] == "arguments"


def test_tone_order_explicit_then_segment_then_locale_default(client: TestClient) -> None:
    admin = As(client, "admin")
    emily = conversation_for(client, "UK-300552")
    empathetic, formal = files.text("utter_goodbye", "en", "empathetic"), files.text("utter_goodbye", "en", "formal")
    assert nlg(client, "utter_goodbye", sender=emily, locale="en")["text"] == empathetic

    chosen = admin("PUT", "/defaults/en", {"tone": "formal"})
    assert chosen.status_code == 200 and chosen.json()["tone"] == "formal"
    assert nlg(client, "utter_goodbye", sender=emily, locale="en")["text"] == formal  # the locale default
    assert admin("GET", "/locales").json()["locales"][0] == {
        "code": "en", "name": "English", "file_tone": "empathetic", "tone": "formal",
    }  # fmt: skip

    assert admin("PUT", "/defaults/en/segments/new", {"tone": "empathetic"}).status_code == 200
    assert nlg(client, "utter_goodbye", sender=emily, locale="en")["text"] == empathetic  # Emily is new
    assert nlg(client, "utter_goodbye", sender=emily, locale="en", tone="formal")["text"] == formal  # explicit wins
    assert nlg(client, "utter_goodbye", sender="unknown-conversation", locale="en")["text"] == formal

    # Assigned segments come before new/returning.
    assert admin("PUT", "/segments/assignments", {"reference": "UK-300552", "segment": "business"}).status_code == 200
    assert admin("PUT", "/defaults/en/segments/business", {"tone": "formal"}).status_code == 200
    assert nlg(client, "utter_goodbye", sender=emily, locale="en")["text"] == formal
    lookup = admin("GET", "/segments/debtors/uk-300552").json()
    assert lookup["segments"] == [
        "business",
        "returning",
    ]  # as their next conversation would be and lookup["tone"] == "formal"

    defaults = admin("GET", "/defaults").json()
    english = next(loc for loc in defaults["locales"] if loc["code"] == "en")
    assert english["tone"] == "formal" and english["segments"] == {"new": "empathetic", "business": "formal"}
    assert {"name": "business", "derived": False, "debtors": 1} in defaults["segments"]
    assert [s["name"] for s in defaults["segments"]][:3] == ["vulnerable", "returning", "new"]
    first = next(v for v in reversed(defaults["history"]) if v["segment"] is None and v["locale"] == "en")

    # Clear and roll back: both recorded.
    assert admin("PUT", "/defaults/en/segments/business", {"tone": None}).json()["action"] == "reset"
    assert admin("PUT", "/defaults/en/segments/new", {"tone": None}).status_code == 200
    assert admin("PUT", "/defaults/en", {"tone": None}).json()["action"] == "reset"
    assert nlg(client, "utter_goodbye", sender=emily, locale="en")["text"] == empathetic
    rolled = admin("POST", f"/default-versions/{first['id']}/rollback").json()
    assert (rolled["action"], rolled["tone"], rolled["restored_from_id"]) == ("rollback", "formal", first["id"])
    assert nlg(client, "utter_goodbye", sender=emily, locale="en")["text"] == formal
    assert admin("PUT", "/defaults/en", {"tone": None}).status_code == 200

    listed = admin("GET", "/segments").json()["assignments"]
    assert [(a["reference"], a["segment"], a["assigned_by"]) for a in listed] == [
        ("UK-300552", "business", "Ada admin")
    ]
    assert admin("DELETE", f"/segments/assignments/{listed[0]['debtor_id']}").status_code == 200
    assert admin("GET", "/segments").json()["assignments"] == []
    assert admin("DELETE", f"/segments/assignments/{listed[0]['debtor_id']}").status_code == 404


def test_every_tone_route_is_admin_only_and_writes_need_csrf(client: TestClient) -> None:
    routes = [
        (method, re.sub(r"\{[^}]+\}", "999999", path)[len(PREFIX) :])
        for path, route in api_routes(client.app.routes)  # type: ignore[attr-defined]
        if path.startswith(PREFIX)
        for method in route.methods or ()
    ]
    assert len(routes) >= 15
    agent, admin = As(client, "agent"), As(client, "admin")
    for method, path in routes:
        client.cookies.clear()
        assert client.request(method, f"{PREFIX}{path}", json={}).status_code == 401, (method, path)
        assert agent(method, path, {}).status_code == 403, (method, path)
        if method != "GET":
            assert admin(method, path, {}, csrf=False).status_code == 403, (method, path)
            assert admin(method, path, {}).status_code in (404, 422), (method, path)
        else:
            assert admin(method, path).status_code in (200, 404, 422), (method, path)
    # The page itself: admins only.
    agent("GET", "/texts")  # (sets the agent's cookie)
    assert client.get("/agent/admin/tone").status_code == 403
    admin("GET", "/texts")
    page = client.get("/agent/admin/tone")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
