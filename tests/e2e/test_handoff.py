"""Hand-over end to end on the real processes: queue, take over, reply, hand back; callbacks;
hardship, vulnerability cues and disputes reaching the queue with the right priority."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import make_engine
from handoff.models import PRIORITY, Reason
from locales import Catalog
from people.auth import service as auth_service
from people.auth.models import Role
from people.jurisdiction import service as jurisdiction
from tests.e2e.test_channels import new_number, sent_to, sms, wait_processed, wait_until
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.own_debtor import own_debtor
from tests.stack import Stack

pytestmark = pytest.mark.e2e
catalog = Catalog()
PASSWORD = "correct horse battery staple"


def text(key: str, locale: str, **args: object) -> str:
    return catalog.render(key, locale, None, dict(args)).text


def crisis_line(country: str) -> dict[str, object]:
    return jurisdiction.crisis_arguments(jurisdiction.for_country(country))


def create_staff(stack: Stack, name: str, role: Role = Role.AGENT) -> str:
    username = f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.org"

    async def run() -> None:
        engine = make_engine(stack.database_url)
        async with AsyncSession(engine) as session:
            await auth_service.create_user(
                session=session, username=username, password=PASSWORD, display_name=name, role=role
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(run())
    return username


class Console:
    """An agent using the console's API, as the page does (cookie + CSRF header)."""

    def __init__(self, stack: Stack, name: str, role: Role = Role.AGENT) -> None:
        self.name = name
        self.http = httpx.Client(base_url=stack.gateway_url, timeout=30)
        login = self.http.post(
            "/agent/api/login", json={"username": create_staff(stack, name, role), "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.csrf = login.json()["csrf_token"]

    def get(self, path: str) -> Any:
        response = self.http.get(f"/agent/api{path}")
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"/agent/api{path}", json=body or {}, headers={"X-CSRF-Token": self.csrf})

    def queued(self, conversation_id: str) -> dict[str, Any]:
        [item] = [i for i in self.get("/queue")["items"] if i["conversation_id"] == conversation_id]
        return item  # type: ignore[no-any-return]


def conversation_id(stack: Stack, session: str) -> str:
    with sqlite3.connect(stack.workdir / "e2e.db") as db:
        row = db.execute("SELECT id FROM conversations WHERE external_id = ?", (stack.address(session),)).fetchone()
    assert row, session
    return str(row[0])


def tracker_paused(stack: Stack, conversation: str) -> bool:
    rasa = f"http://127.0.0.1:{stack.ports['rasa']}"
    tracker = httpx.get(f"{rasa}/conversations/{conversation}/tracker", params=stack.rasa_auth, timeout=30).json()
    return bool(tracker["paused"])


def new_session() -> str:
    return f"e2e-handoff-{uuid.uuid4().hex}"


def nobody_online(stack: Stack) -> None:
    """Nobody has the console open, whatever the time of day and whichever agents other tests on this
    stack logged in (an agent counts as online for presence_seconds after their last request)."""
    with sqlite3.connect(stack.workdir / "e2e.db") as db:
        db.execute("UPDATE staff_users SET last_seen_at = NULL")


def test_ask_for_a_person_take_over_reply_and_hand_back(stack: Stack) -> None:
    nobody_online(stack)
    session = new_session()
    first = stack.say(session, "I want to talk to a real person please")
    texts = [m["text"] for m in first]
    # Nobody has the console open: told by when someone gets back, with a callback offer.
    offline = next(m for m in first if m["buttons"])
    assert any(b["payload"] == "/request_callback" for b in offline["buttons"]), texts
    chat = conversation_id(stack, session)

    alex, sam = Console(stack, "Alex"), Console(stack, "Sam")
    item = alex.queued(chat)
    assert (item["reason"], item["priority"], item["state"]) == (
        "request_human",
        PRIORITY[Reason.REQUEST_HUMAN],
        "queued",
    )
    assert (item["channel"], item["locale"], item["verified"]) == ("webchat", "en", False)

    assert alex.post(f"/conversations/{chat}/take").status_code == 200
    taken = sam.post(f"/conversations/{chat}/take")
    assert (taken.status_code, taken.json()["detail"]) == (409, "already_taken")
    assert tracker_paused(stack, chat)

    # The debtor's message goes to the agent, not to Rasa.
    assert stack.say(session, "hello, are you there?") == []
    view = alex.get(f"/conversations/{chat}")
    assert view["conversation"]["state"] == "agent"
    assert view["messages"][-1]["text"] == "hello, are you there?"
    assert view["messages"][-1]["detected_language"] == "en"
    assert any(m["text"] == text("utter_handoff_agent_joined", "en", agent="Alex") for m in view["messages"])

    # Only the owner writes to the debtor.
    assert sam.post(f"/conversations/{chat}/reply", {"text": "Hi from Sam"}).status_code == 403
    assert alex.post(f"/conversations/{chat}/reply", {"text": "Hi, Alex here. How can I help?"}).status_code == 200
    assert alex.post(f"/conversations/{chat}/notes", {"text": "Asked for a person"}).status_code == 201
    view = alex.get(f"/conversations/{chat}")
    reply = next(m for m in view["messages"] if m["text"] == "Hi, Alex here. How can I help?")
    assert reply["direction"] == "out" and reply["agent"]["display_name"] == "Alex"
    assert view["notes"][0]["text"] == "Asked for a person"

    resolved = alex.post(f"/conversations/{chat}/resolve", {"outcome": "helped"})
    assert resolved.status_code == 200, resolved.text
    assert not tracker_paused(stack, chat)
    view = alex.get(f"/conversations/{chat}")
    assert [(t["from_state"], t["to_state"]) for t in view["transitions"]] == [
        ("bot", "queued"),
        ("queued", "agent"),
        ("agent", "resolved"),
        ("resolved", "bot"),
    ]
    assert view["messages"][-1]["text"] == text("utter_handoff_back_to_bot", "en")
    assert all(i["conversation_id"] != chat for i in alex.get("/queue")["items"])

    # The bot answers again.
    again = stack.say(session, "how much do I owe?")
    assert [m["text"] for m in again][:1] == [text("utter_verify_intro", "en")]


def test_callback_request_when_nobody_is_online(stack: Stack) -> None:
    nobody_online(stack)
    session = new_session()
    offered = stack.say(session, "can I speak to someone")
    assert any(b["payload"] == "/request_callback" for m in offered for b in m["buttons"]), offered
    asked = stack.say(session, "/request_callback")
    assert asked, "the assistant asks how to reach them"
    confirmed = stack.say(session, "07700 900123, weekdays after 5pm")
    assert confirmed
    chat = conversation_id(stack, session)
    agent = Console(stack, "Casey")
    assert agent.queued(chat)["callback_requested"] is True
    [callback] = agent.get(f"/conversations/{chat}")["callbacks"]
    assert "07700 900123" in callback["details"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("I can't afford to pay right now, I have no money until next month", Reason.HARDSHIP),
        ("my husband passed away last month and I can't cope with this", Reason.VULNERABILITY),
    ],
    ids=["hardship", "bereavement-cue"],
)
def test_hardship_and_cues_reach_the_queue_first(stack: Stack, message: str, reason: Reason) -> None:
    session = new_session()
    stack.say(session, message)
    chat = conversation_id(stack, session)
    agent = Console(stack, "Robin")
    item = agent.queued(chat)
    assert (item["reason"], item["priority"]) == (reason.value, PRIORITY[reason])
    items = agent.get("/queue")["items"]
    assert [i["priority"] for i in items] == sorted(i["priority"] for i in items)
    view = agent.get(f"/conversations/{chat}")
    inbound = [m for m in view["messages"] if m["direction"] == "in"]
    if reason is Reason.VULNERABILITY:
        assert inbound[0]["signals"]["cues"], inbound[0]


def test_self_harm_gets_crisis_support_and_holds_the_assistant(stack: Stack) -> None:
    session = new_session()
    first = stack.say(session, "I can't go on, I want to end my life")
    # A stranger on web chat writing English: the crisis line English maps to (config/jurisdictions.yml).
    assert [m["text"] for m in first] == [text("utter_crisis_support", "en", **crisis_line("GB"))]
    chat = conversation_id(stack, session)
    agent = Console(stack, "Jo")
    item = agent.queued(chat)
    assert (item["reason"], item["priority"]) == ("self_harm", 0)
    assert agent.get("/queue")["items"][0]["priority"] == 0
    # While waiting, no collection talk: the assistant stays quiet (the crisis reply was just sent).
    assert stack.say(session, "how much do I owe") == []


def test_dispute_pauses_collection_on_the_debt_until_an_agent_decides(stack: Stack) -> None:
    session = new_session()
    emily = own_debtor(stack.database_url)  # her own: the hold must not touch other tests' debtors
    [debt_reference] = emily.debt_references
    stack.say(session, "I don't owe this, it's not my debt")
    stack.say(session, emily.reference)
    opened = stack.say(session, "21/07/1992")
    assert any(debt_reference in m["text"] for m in opened), opened
    chat = conversation_id(stack, session)
    agent = Console(stack, "Dana")
    item = agent.queued(chat)
    assert (item["reason"], item["priority"]) == ("dispute", PRIORITY[Reason.DISPUTE])
    view = agent.get(f"/conversations/{chat}")
    [dispute] = view["disputes"]
    assert (dispute["debt_reference"], dispute["reason"], dispute["status"]) == (debt_reference, "not_mine", "open")
    [debt] = view["debtor"]["debts"]
    assert debt["paused"] and debt["hold_reasons"] == ["dispute"]

    # No payment request for the disputed debt.
    paying = stack.say(session, "I want to pay now")
    assert not any("/payments/" in m["text"] or "checkout" in m["text"] for m in paying), paying
    assert [m["text"] for m in paying] == [text("utter_collection_paused", "en")]

    # The agent rejects the dispute: collection resumes and a payment link can be sent again.
    assert agent.post(f"/disputes/{dispute['id']}/resolve", {"status": "rejected"}).status_code == 200
    again = agent.post(f"/disputes/{dispute['id']}/resolve", {"status": "upheld"})
    assert (again.status_code, again.json()["detail"]) == (409, "dispute_already_resolved")
    assert not agent.get(f"/conversations/{chat}")["debtor"]["debts"][0]["paused"]
    paying = stack.say(session, "I want to pay now")
    assert any("http" in m["text"] for m in paying), paying


def test_agent_replies_through_the_debtors_sms(stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram]) -> None:
    twilio, _ = fakes
    number = new_number()
    assert sms(stack, twilio, number, "I need to speak to a human") == 200
    wait_until(lambda: any("/request_callback" not in b and b for b in sent_to(twilio, number)))
    with sqlite3.connect(stack.workdir / "e2e.db") as db:
        wait_until(lambda: db.execute("SELECT state FROM conversations WHERE external_id = ?", (number,)).fetchone()
                   == ("queued",))  # fmt: skip
        chat = str(db.execute("SELECT id FROM conversations WHERE external_id = ?", (number,)).fetchone()[0])
    agent = Console(stack, "Kim")
    assert agent.queued(chat)["channel"] == "sms"
    assert agent.post(f"/conversations/{chat}/take").status_code == 200
    before = len(sent_to(twilio, number))
    assert agent.post(f"/conversations/{chat}/reply", {"text": "Hello, Kim here from the team."}).status_code == 200
    wait_until(lambda: "Hello, Kim here from the team." in sent_to(twilio, number))
    # The debtor's SMS reaches the agent, and the assistant does not answer it.
    assert sms(stack, twilio, number, "thanks Kim, can we talk tomorrow?") == 200
    wait_until(
        lambda: any(
            m["text"] == "thanks Kim, can we talk tomorrow?" for m in agent.get(f"/conversations/{chat}")["messages"]
        )
    )
    wait_processed(stack, number, 2)  # the worker handled it: had the assistant answered, it would be sent
    assert sent_to(twilio, number)[before - 1] == text("utter_handoff_agent_joined", "en", agent="Kim")
    assert len(sent_to(twilio, number)) == before + 1  # Kim's reply, nothing from the assistant
