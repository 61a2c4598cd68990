"""Issue 5 point 9, end to end in headless Chromium against the real stack (Rasa + actions +
gateway + worker): a debtor on the web chat page asks for a person, an agent logs in to the
console, sees the conversation in the queue, takes it, replies (pushed to the debtor's page over
its WebSocket), hands back, and the assistant answers the debtor's next message again."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Expect, Page, Route

from locales import Catalog
from tests.channels.test_webchat_page import REPLY_TIMEOUT_MS, Tab
from tests.stack import ROOT, Stack
from tests.webchat import conversation_key

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

catalog = Catalog()
# This module's own expect(): live updates and pushed replies cross real processes (1 s SSE polling,
# Rasa), so wait longer than Playwright's 5 s default without changing it for other modules.
expect = Expect()
expect.set_options(timeout=30_000)
PASSWORD = f"console-e2e-{uuid.uuid4().hex}"


def text(key: str, **args: object) -> str:
    return catalog.render(key, "en", None, dict(args)).text


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str


def create_agent(stack: Stack, display_name: str) -> Agent:
    """A console user in the stack's own database, made the way an operator would."""
    username = f"agent-{uuid.uuid4().hex[:10]}@example.org"
    subprocess.run(
        [sys.executable, "-m", "app.manage", "create-staff", "--username", username, "--display-name", display_name],
        cwd=ROOT,
        env={**stack.env(), "STAFF_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Agent(username, display_name)


def conversation_id(stack: Stack, session_id: str) -> str:
    path = stack.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT id FROM conversations WHERE channel = 'webchat' AND external_id = ?",
            (conversation_key(db, session_id),),
        ).fetchone()
    assert row, f"no conversation stored for web chat session {session_id}"
    return str(row[0])


class Console:
    """One agent's browser context on /agent, recording page errors."""

    def __init__(self, browser: Browser, stack: Stack) -> None:
        self.url = f"{stack.gateway_url}/agent"
        self.context: BrowserContext = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
        self.context.set_default_timeout(REPLY_TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def login(self, agent: Agent) -> None:
        page = self.page
        response = page.goto(self.url)
        assert response is not None and response.status == 401  # no session yet: the login form
        expect(page.locator("#login-form")).to_be_visible()
        expect(page.locator("#console-view")).to_be_hidden()

        page.get_by_label("Username").fill(agent.username)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#login-error")).to_have_text("Wrong username or password.")

        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#console-view")).to_be_visible()
        expect(page.locator("#me")).to_contain_text(agent.display_name)
        expect(page.locator("#live")).to_have_text("Live")

        response = page.reload()  # the cookie session holds: the page itself now answers 200
        assert response is not None and response.status == 200
        expect(page.locator("#console-view")).to_be_visible()
        expect(page.locator("#live")).to_have_text("Live")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def consoles(browser: Browser, stack: Stack) -> Iterator[list[Console]]:
    opened: list[Console] = []
    try:
        yield opened
        for console in opened:
            assert console.errors == [], f"errors in the console page: {console.errors}"
    finally:
        for console in opened:
            console.close()


def test_debtor_asks_for_a_person_agent_takes_over_and_hands_back(
    browser: Browser,
    stack: Stack,
    consoles: list[Console],
) -> None:
    alex = create_agent(stack, "Alex Agent")
    sam = create_agent(stack, "Sam Second")

    # ---- The debtor asks for a person on the web chat page ----
    debtor = Tab(browser, f"{stack.gateway_url}/").open()
    try:
        asked = debtor.say("I want to talk to a person")
        queued = text("utter_handoff_queued", minutes=10)
        offline = text("utter_handoff_offline", until="2030-01-07T09:00:00+00:00", timezone="Europe/London")
        assert any(r == queued or r.startswith(offline[:40]) for r in asked), asked
        session_id = debtor.session_id()
        assert session_id
        conversation = conversation_id(stack, session_id)

        # ---- An agent logs in and sees it in the queue ----
        console = Console(browser, stack)
        consoles.append(console)
        console.login(alex)
        page = console.page
        item = page.locator(f'.queue-item[data-conversation-id="{conversation}"]')
        expect(item).to_be_visible()
        for shown in ("Asked for a person", "Unverified", "Waiting", "Web chat", "en", "I want to talk to a person"):
            expect(item).to_contain_text(shown)
        expect(item.locator(".wait")).to_have_text(re.compile(r"^(<1|\d+) min$|^\d+ h \d+ min$"))
        expect(page.locator("#agents-online")).to_contain_text(re.compile(r"[1-9]\d* agents? online"))

        # ---- Opens the conversation: transcript with language and intent, not yet replyable ----
        item.click()
        expect(item).to_have_attribute("aria-current", "true")
        expect(page.locator("#conversation-title")).to_contain_text("Unverified debtor")
        asked_row = page.locator('#transcript [data-direction="in"]', has_text="I want to talk to a person")
        expect(asked_row).to_be_visible()
        expect(asked_row).to_contain_text("Intent request_human")
        expect(asked_row).to_contain_text("Language en")
        expect(page.locator("#debtor")).to_contain_text("Not verified")
        expect(page.locator("#case")).to_contain_text("Asked for a person")
        expect(page.locator("#reply-text")).to_be_disabled()
        expect(page.locator("#take")).to_be_visible()

        # A second agent has the same conversation open, but their view is stale (no live updates).
        second = Console(browser, stack)
        consoles.append(second)
        second.login(sam)
        second.page.route("**/agent/api/events", lambda route: route.abort())
        stale: dict[str, str] = {}

        def serve_stale(route: Route) -> None:
            if route.request.method != "GET":
                route.fallback()
                return
            if "body" not in stale:
                stale["body"] = route.fetch().text()
            route.fulfill(status=200, content_type="application/json", body=stale["body"])

        second.page.route(f"**/agent/api/conversations/{conversation}", serve_stale)
        second.page.reload()
        expect(second.page.locator("#console-view")).to_be_visible()
        second.page.locator(f'.queue-item[data-conversation-id="{conversation}"]').click()
        expect(second.page.locator("#take")).to_be_visible()

        # ---- Alex takes it over; the debtor is told a person joined ----
        before = len(debtor.bot_texts())
        page.get_by_role("button", name="Take over").click()
        expect(page.locator("#action-message")).to_contain_text("You took over this conversation")
        expect(page.locator("#reply-text")).to_be_enabled()
        expect(page.locator("#reply-text")).to_be_focused()
        expect(page.locator("#take")).to_be_hidden()
        expect(page.locator("#conversation-meta")).to_contain_text("With you")
        expect(item).to_contain_text(f"With {alex.display_name}")
        joined = debtor.page.locator(
            "#log .msg.bot", has_text=text("utter_handoff_agent_joined", agent=alex.display_name)
        )
        expect(joined).to_be_visible()  # pushed over the page's WebSocket

        # ---- Sam, too late: a clear message instead of a second owner ----
        second.page.get_by_role("button", name="Take over").click()
        expect(second.page.locator("#action-message")).to_have_text("Another agent already took this conversation.")
        second.page.unroute_all()

        # ---- The debtor writes: it goes to the agent (live in the console), not to the assistant ----
        field = debtor.page.locator("#message-input")
        field.fill("Is anyone there? I lost my job last month")
        field.press("Enter")
        expect(debtor.page.locator("#log .msg.user").last).to_have_text("Is anyone there? I lost my job last month")
        expect(debtor.page.locator("#log .msg.user.pending")).to_have_count(0)
        worried = page.locator('#transcript [data-direction="in"]', has_text="Is anyone there?")
        expect(worried).to_be_visible()
        expect(worried).to_have_class(re.compile(r"\bvulnerable\b"))  # highlighted, with its cue
        expect(worried).to_contain_text("job loss: lost my job")
        expect(page.locator("#case")).to_contain_text("Vulnerability")  # the case's reason is now the most urgent
        expect(item.locator(".badge.red")).to_have_text("Vulnerability")

        # ---- Alex replies (Enter sends); the debtor's page receives it ----
        reply = "Hello, this is Alex from the team. I'm sorry to hear about your job. How can I help?"
        page.locator("#reply-text").fill(reply)
        page.locator("#reply-text").press("Enter")
        expect(page.locator("#reply-text")).to_have_value("")
        sent = page.locator('#transcript [data-direction="out"]', has_text=reply)
        expect(sent).to_be_visible()
        expect(sent).to_contain_text(f"{alex.display_name} (agent)")
        expect(debtor.page.locator("#log .msg.bot").last).to_have_text(reply)
        assert len(debtor.bot_texts()) == before + 2  # "joined" and the reply, nothing from the assistant

        # An internal note stays in the console.
        page.get_by_label("Add a note (staff only, never sent to the debtor)").fill("Job loss: offer hardship options.")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#notes")).to_contain_text("Job loss: offer hardship options.")
        expect(page.locator("#notes")).to_contain_text(alex.display_name)

        # ---- Resolve and hand back to the assistant ----
        page.get_by_label("Outcome").select_option("helped")
        page.get_by_role("button", name="Resolve and hand back").click()
        expect(page.locator("#action-message")).to_contain_text("Resolved")
        expect(item).to_have_count(0)  # gone from the queue
        expect(page.locator("#reply-text")).to_be_disabled()
        expect(page.locator("#transitions")).to_contain_text("Waiting for an agent → With an agent")
        expect(page.locator("#transitions")).to_contain_text("→ With the assistant")
        expect(debtor.page.locator("#log .msg.bot", has_text=text("utter_handoff_back_to_bot"))).to_be_visible()

        # ---- The assistant answers the next message again ----
        again = debtor.say("what do I owe?")
        assert again == [text("utter_verify_intro"), text("utter_ask_reference")], again
        assert debtor.errors == [], debtor.errors
        assert debtor.dialogs == [], debtor.dialogs
    finally:
        debtor.close()


def test_console_page_is_self_contained(stack: Stack, browser: Browser) -> None:
    """No request leaves the gateway, the page has a strict CSP, and the assets have real types."""
    console = Console(browser, stack)
    outside: list[str] = []
    console.page.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith((stack.gateway_url, "data:")) else None
    )
    try:
        response = console.page.goto(console.url)
        assert response is not None and response.status == 401
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(console.page.get_by_label("Username")).to_be_focused()
        for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
            asset = console.page.request.get(f"{stack.gateway_url}/agent/static/{name}")
            assert asset.status == 200 and asset.headers["content-type"].startswith(kind), (name, asset.headers)
        assert console.page.request.get(f"{stack.gateway_url}/agent/static/../pages.py").status == 404
        assert console.page.request.get(f"{stack.gateway_url}/agent/static/console.html").status == 404
        assert outside == []
        assert console.errors == []
        # The JSON the page reads is the API's: logged out, /me says so.
        me = console.page.request.get(f"{stack.gateway_url}/agent/api/me")
        assert me.status == 401 and json.loads(me.text()) == {"detail": "not_authenticated"}
    finally:
        console.close()
