"""The web chat page in headless Chromium against the real stack (gateway + Rasa + actions)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    Dialog,
    FloatRect,
    Page,
    Request,
    WebSocketRoute,
    expect,
)

from tests.stack import Stack

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 360, 740
REPLY_TIMEOUT_MS = 60_000
SESSION_KEY = "webchat.session_id"


class Tab:
    """One browser context (own localStorage) with a page on the chat, recording errors and dialogs."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.url = url
        self.context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-GB")
        self.context.set_default_timeout(REPLY_TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self) -> Tab:
        self.page.goto(self.url)
        expect(self.page.locator("#message-input")).to_be_visible()
        self.page.wait_for_function("k => !!localStorage.getItem(k)", arg=SESSION_KEY)  # issued by the server
        return self

    def bot_texts(self) -> list[str]:
        return self.page.locator("#log .msg.bot").all_inner_texts()

    def wait_replies(self, before: int) -> list[str]:
        """Wait until bot bubbles beyond `before` arrived and nothing is pending; return the new ones."""
        self.page.wait_for_function(
            """n => document.querySelectorAll('#log .msg.bot').length > n
                  && document.getElementById('typing').hidden
                  && !document.querySelector('#log .msg.user.pending')""",
            arg=before,
            timeout=REPLY_TIMEOUT_MS,
        )
        return self.bot_texts()[before:]

    def say(self, text: str) -> list[str]:
        before = len(self.bot_texts())
        field = self.page.locator("#message-input")
        field.fill(text)
        field.press("Enter")
        expect(self.page.locator("#log .msg.user").last).to_have_text(text)
        return self.wait_replies(before)

    def session_id(self) -> str | None:
        return self.page.evaluate("k => localStorage.getItem(k)", SESSION_KEY)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Browser, stack: Stack) -> Iterator[Tab]:
    tab = Tab(browser, f"{stack.gateway_url}/")
    try:
        yield tab.open()
        assert tab.dialogs == [], f"unexpected dialogs: {tab.dialogs}"
        assert tab.errors == [], f"errors in the page: {tab.errors}"
    finally:
        tab.close()


def inside_viewport(box: FloatRect | None) -> bool:
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= WIDTH
        and box["y"] + box["height"] <= HEIGHT
    )


def assert_balance(replies: list[str]) -> None:
    if any("paused verification" in r for r in replies):
        # Lockout is per reference as well as per conversation, and `stack` is shared by the whole session:
        # tests/e2e locks UK-300552 on purpose, so these tests must run before it (the default order).
        pytest.fail(f"UK-300552 is locked by an earlier test on the shared stack: {replies}")
    assert any("£612.45" in r for r in replies), replies


def verify_english_debtor(tab: Tab) -> list[str]:
    tab.say("UK-300552")
    replies = tab.say("21/07/1992")
    assert_balance(replies)
    return replies


def test_conversation_at_360px(tab: Tab) -> None:
    page = tab.page
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for selector in ("#message-input", "#send-button"):
        expect(page.locator(selector)).to_be_visible()
        assert inside_viewport(page.locator(selector).bounding_box()), selector
    expect(page.locator("#log")).to_have_attribute("role", "log")
    expect(page.locator("#log")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#message-input")).to_have_attribute("maxlength", "1000")
    expect(page.locator("#message-input")).to_have_accessible_name("Message")
    expect(page.locator("#send-button")).to_have_accessible_name("Send")

    # Empty or whitespace-only text cannot be sent.
    expect(page.locator("#send-button")).to_be_disabled()
    page.locator("#message-input").fill("   ")
    expect(page.locator("#send-button")).to_be_disabled()
    page.locator("#message-input").press("Enter")
    expect(page.locator("#log .msg.user")).to_have_count(0)

    greeting = tab.say("hello")
    assert "automated assistant" in greeting[0]

    button = page.locator('#log .reply-button[data-payload="/check_balance"]').last
    expect(button).to_have_text("Check what I owe")
    before = len(tab.bot_texts())
    button.click()
    expect(page.locator("#log .msg.user").last).to_have_text("Check what I owe")  # the title, not the payload
    asked = tab.wait_replies(before)
    assert any("reference" in r for r in asked), asked
    expect(button).to_be_disabled()  # old quick replies are spent once the debtor answered

    tab.say("UK-300552")
    assert_balance(tab.say("21/07/1992"))
    balance = page.locator("#log .msg.bot", has_text="£612.45").last
    expect(balance).to_be_visible()
    assert "\n" in balance.inner_text()  # line breaks are rendered: the overview stays a multi-line list
    assert balance.bounding_box()["height"] > 3 * 20  # type: ignore[index]

    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert inside_viewport(page.locator("#message-input").bounding_box())
    assert inside_viewport(page.locator("#send-button").bounding_box())
    if shot := os.environ.get("WEBCHAT_SCREENSHOT"):
        page.screenshot(path=shot)


def test_reload_keeps_the_session(tab: Tab) -> None:
    page = tab.page
    session = tab.session_id()
    assert session and 16 <= len(session) <= 128

    sent: list[dict] = []
    received: list[dict] = []
    urls: list[str] = []

    def watch(ws: object) -> None:
        urls.append(ws.url)  # type: ignore[attr-defined]
        ws.on("framesent", lambda payload: sent.append(json.loads(payload)))  # type: ignore[attr-defined]
        ws.on("framereceived", lambda payload: received.append(json.loads(payload)))  # type: ignore[attr-defined]

    page.on("websocket", watch)
    tab.say("hello")
    tab.say("how much do I owe")
    verify_english_debtor(tab)
    rotated = tab.session_id()  # a new id once verified; the conversation stays
    assert rotated and rotated != session

    page.reload()
    expect(page.locator("#message-input")).to_be_visible()
    assert tab.session_id() == rotated
    expect(page.locator("#log .msg")).to_have_count(0)
    # Until the server answers the socket's hello the page sends over REST (by design): wait for it.
    deadline = time.monotonic() + REPLY_TIMEOUT_MS / 1000
    while not any(frame.get("type") == "ready" for frame in received) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    replies = tab.say("how much do I owe")
    assert_balance(replies)  # already verified: the same conversation continues

    # (Frames seen here are the reloaded page's: the first socket opened before we listened.)
    messages = [frame for frame in sent if "text" in frame]
    assert messages, "messages should go over the WebSocket when it is up"
    assert {frame["session_id"] for frame in messages} == {rotated}
    assert {frame["locale"] for frame in messages} == {"en-GB"}
    assert [frame["session_id"] for frame in sent if frame.get("type") == "hello"] == [rotated]
    assert urls and not any(session in url or rotated in url for url in urls)  # never in a URL


def test_text_is_never_html(tab: Tab) -> None:
    payload = "<img src=x onerror=alert(1)>"
    tab.say(payload)
    expect(tab.page.locator("#log .msg.user").last).to_have_text(payload)
    assert tab.page.locator("#log img").count() == 0
    assert tab.page.locator("#log .msg.user").last.inner_html() == "&lt;img src=x onerror=alert(1)&gt;"


def test_never_drops_a_message_while_the_socket_is_down(browser: Browser, stack: Stack) -> None:
    """Socket refused -> REST; socket dropped mid-message -> the same message over REST; socket back -> WS again."""
    tab = Tab(browser, f"{stack.gateway_url}/")
    mode = {"now": "refuse"}
    posts: list[dict] = []

    def route(ws: WebSocketRoute) -> None:
        if mode["now"] == "refuse":
            ws.close(code=1011, reason="down for the test")
        elif mode["now"] == "drop":
            server = ws.connect_to_server()

            def drop(message: str | bytes) -> None:
                if json.loads(message).get("type") == "hello":
                    server.send(message)  # the hello goes through; the first message is dropped
                    return
                mode["now"] = "server"
                ws.close(code=1006, reason="dropped mid-message")

            ws.on_message(drop)
        else:
            ws.connect_to_server()

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/webchat/messages"):
            posts.append(json.loads(request.post_data or "{}"))

    try:
        tab.page.route_web_socket("**/webchat/ws", route)
        tab.page.on("request", record)
        tab.open()
        status = tab.page.locator("#status")
        expect(status).to_have_text("Connecting…")

        assert "automated assistant" in tab.say("hello")[0]
        assert [p["text"] for p in posts] == ["hello"]
        assert posts[0]["session_id"] == tab.session_id() and posts[0]["locale"] == "en-GB"

        mode["now"] = "drop"
        tab.page.evaluate("window.dispatchEvent(new Event('online'))")  # reconnect now instead of after backoff
        expect(status).to_be_empty()
        replies = tab.say("how much do I owe")
        assert any("reference" in r for r in replies), replies
        assert [p["text"] for p in posts] == ["hello", "how much do I owe"]  # resent over REST, not lost

        expect(status).to_be_empty()  # reconnected to the real socket
        assert mode["now"] == "server"
        tab.say("UK-300552")
        assert len(posts) == 2  # back on the WebSocket
        expect(tab.page.locator("#log .msg.user.failed")).to_have_count(0)
        assert tab.dialogs == []
    finally:
        tab.close()


def test_the_page_gets_its_session_from_the_server_and_end_chat_forgets_it(tab: Tab, stack: Stack) -> None:
    page = tab.page
    session = tab.session_id()
    assert session
    # Issued by the server: it answers to this id (a made-up one is refused).
    assert tab.say("hello")
    refused = httpx.post(f"{stack.gateway_url}/webchat/messages", json={"session_id": "made-up-by-me", "text": "hi"})
    assert refused.status_code == 401
    end = page.get_by_role("button", name="End chat")
    expect(end).to_be_visible()
    assert inside_viewport(end.bounding_box())
    with page.expect_request(lambda r: r.url.endswith("/webchat/sessions/end")) as ended:
        end.click()
    assert json.loads(ended.value.post_data or "{}") == {"session_id": session}
    expect(page.locator("#log .msg")).to_have_count(0)
    page.wait_for_function("([k, old]) => { const v = localStorage.getItem(k); return v && v !== old; }",
                           arg=[SESSION_KEY, session])  # fmt: skip
    assert tab.session_id() != session
    gone = httpx.post(f"{stack.gateway_url}/webchat/messages", json={"session_id": session, "text": "hi"}, timeout=30)
    assert gone.status_code == 401
    greeting = tab.say("hello")  # a new conversation: the disclosure again
    assert "automated assistant" in greeting[0]
