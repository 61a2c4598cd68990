"""Issue 6 point 2 in headless Chromium against the real stack (Rasa + actions + gateway +
worker): an admin edits utter_greet's empathetic English text on the Texts & tone page, sees the
preview, saves; a web chat "hi" gets the new text; the admin rolls back; "hi" gets the original."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Expect, Page

from locales import Catalog
from tests.channels.test_webchat_page import REPLY_TIMEOUT_MS, Tab
from tests.stack import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

catalog = Catalog()
expect = Expect()
expect.set_options(timeout=20_000)
PASSWORD = f"tone-e2e-{uuid.uuid4().hex}"
EDITED = f"Hi there, lovely to see you! What shall we sort out today? ({uuid.uuid4().hex[:6]})"


class AdminPage:
    """An admin's browser context on /agent/admin/tone, logged in through the console's API."""

    def __init__(self, browser: Browser, stack: Stack) -> None:
        self.stack = stack
        self.context: BrowserContext = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
        self.context.set_default_timeout(REPLY_TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # Failed requests are checked by URL below (a refused draft preview is a 422 on purpose).
        self.page.on(
            "console",
            lambda msg: (
                self.errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
        self.failed: list[str] = []
        self.page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        self.page.on(
            "request",
            lambda r: self.outside.append(r.url) if not r.url.startswith((stack.gateway_url, "data:")) else None,
        )

    def login(self) -> None:
        # A real admin in the stack's database, made the way an operator would (own process: the
        # sync Playwright API runs an event loop here).
        username = f"tone-admin-{uuid.uuid4().hex[:8]}@example.org"
        subprocess.run(
            [sys.executable, "-m", "app.manage", "create-staff", "--username", username,
             "--display-name", "Tone Admin", "--role", "admin"],
            cwd=ROOT, env={**self.stack.env(), "STAFF_PASSWORD": PASSWORD}, check=True, capture_output=True,
            timeout=120,
        )  # fmt: skip
        login = self.context.request.post(
            f"{self.stack.gateway_url}/agent/api/login", data={"username": username, "password": PASSWORD}
        )
        assert login.status == 200, login.text()
        response = self.page.goto(f"{self.stack.gateway_url}/agent/admin/tone")
        assert response is not None and response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(self.page.locator("#who")).to_contain_text("Tone Admin (admin)")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def admin_page(browser: Browser, stack: Stack) -> Iterator[AdminPage]:
    page = AdminPage(browser, stack)
    try:
        yield page
        assert page.errors == [], page.errors
        assert page.outside == [], page.outside
        # Only the refused draft (the wrong placeholder) failed, as it should.
        assert page.failed and all(f.startswith("422 ") and f.endswith("/tone/preview") for f in page.failed), (
            page.failed
        )
    finally:
        page.close()


def greeting(replies: list[str]) -> str:
    [found] = [r for r in replies if r.startswith((EDITED, catalog.text("utter_greet", "en", "empathetic")))]
    return found


def test_admin_edits_a_text_live_and_rolls_it_back(browser: Browser, stack: Stack, admin_page: AdminPage) -> None:
    original = catalog.text("utter_greet", "en", "empathetic")
    page = admin_page.page
    admin_page.login()
    try:
        # ---- Find the text ----
        expect(page.locator("#locale")).to_have_value("en")
        page.get_by_label("Search keys and texts").fill("utter_greet")
        row = page.locator('#keys tr[data-key="utter_greet"]')
        expect(row).to_be_visible()
        expect(page.locator("#keys tbody tr")).to_have_count(1)
        row.get_by_role("button", name="Edit utter_greet").click()
        expect(page.locator("#key-title")).to_have_text("utter_greet (en)")

        card = page.locator('.variant[data-tone="empathetic"]')
        expect(card.locator(".default-text")).to_have_text(original)
        expect(card.get_by_label("Text (empathetic)")).to_have_value(original)
        expect(card.locator(".preview-text")).to_have_text(original)  # the current text, rendered by the server
        expect(card.locator(".history .origin")).to_contain_text("(live)")

        # ---- A wrong placeholder is refused before saving, with what is wrong ----
        card.get_by_label("Text (empathetic)").fill("Hello {name}!")
        expect(card.locator(".problem")).to_have_text("This text takes no placeholders. Not allowed: {name}.")
        expect(card.get_by_role("button", name="Save empathetic text")).to_be_disabled()
        expect(card.locator(".preview-text")).to_have_text("")  # no stale preview next to a refused draft

        # ---- Edit, live preview, save ----
        card.get_by_label("Text (empathetic)").fill(EDITED)
        expect(card.locator(".preview-text")).to_have_text(EDITED)
        expect(card.locator(".problem")).to_have_text("")
        card.get_by_role("button", name="Save empathetic text").click()
        expect(page.locator("#status")).to_contain_text("Saved: the empathetic text of utter_greet is live.")
        card = page.locator('.variant[data-tone="empathetic"]')
        expect(card.locator(".state")).to_have_text("(edited)")
        expect(card.locator(".history li").first).to_contain_text(EDITED)
        expect(card.locator(".history li").first).to_contain_text("Tone Admin")
        expect(page.locator('.variant[data-tone="formal"] .preview-text')).to_have_text(
            catalog.text("utter_greet", "en", "formal")
        )  # the other tone is untouched

        # ---- The debtor's next message gets the new text ----
        chat = Tab(browser, f"{stack.gateway_url}/").open()
        try:
            assert greeting(chat.say("hi")).startswith(EDITED)

            # ---- Roll back to the original: the next message has it again ----
            card.locator(".history .origin").get_by_role("button", name="Roll back to this").click()
            expect(page.locator("#status")).to_contain_text("Rolled back: utter_greet is live as it was in the file.")
            card = page.locator('.variant[data-tone="empathetic"]')
            expect(card.locator(".state")).to_have_text("(file text)")
            expect(card.locator(".preview-text")).to_have_text(original)
            expect(card.locator(".history li").first).to_contain_text("Reset to the file")
            assert greeting(chat.say("hi")).startswith(original)
            assert chat.errors == [] and chat.dialogs == []
        finally:
            chat.close()
    finally:
        # Leave the shared stack as it was, whatever happened above.
        cookies = {c["name"]: c["value"] for c in admin_page.context.cookies()}
        me = httpx.get(f"{stack.gateway_url}/agent/api/me", cookies=cookies).json()
        httpx.post(
            f"{stack.gateway_url}/agent/api/admin/tone/texts/en/utter_greet/empathetic/reset",
            cookies=cookies,
            headers={"X-CSRF-Token": me["csrf_token"]},
        )
