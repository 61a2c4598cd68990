"""The template step in headless Chromium against the real stack: the web chat page in a
Brazilian browser shows Portuguese labels, and the console switches to the language the staff
member picks (saved, so it holds across reloads) — with no CSP violation on either page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Expect, Page

from locales.pages import all_labels
from tests.handoff.test_console_browser import PASSWORD, create_agent
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = Expect()
expect.set_options(timeout=30_000)


class Browsing:
    """A browser context in one language, recording page errors and console errors (CSP)."""

    def __init__(self, browser: Browser, locale: str) -> None:
        self.context: BrowserContext = browser.new_context(viewport={"width": 1200, "height": 900}, locale=locale)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # A refused request (the console's 401 before login) is the page's business, not an error.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)


@pytest.fixture
def browsing(browser: Browser) -> Iterator[list[Browsing]]:
    opened: list[Browsing] = []
    try:
        yield opened
        for each in opened:
            assert each.errors == [], f"errors in the page: {each.errors}"
    finally:
        for each in opened:
            each.context.close()


def test_web_chat_page_in_brazilian_portuguese(browser: Browser, stack: Stack, browsing: list[Browsing]) -> None:
    labels = all_labels("pt-BR")["webchat"]
    tab = Browsing(browser, "pt-BR")
    browsing.append(tab)
    page = tab.page
    page.goto(f"{stack.gateway_url}/")
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(page.get_by_test_id("end-chat")).to_have_text(labels["end"])
    expect(page.locator("#title")).to_have_text(labels["title"])
    expect(page.get_by_test_id("message-input")).to_have_attribute("placeholder", labels["placeholder"])
    expect(page.get_by_test_id("send-button")).to_have_attribute("aria-label", labels["send"])
    assert page.title() == labels["title"]


def test_console_shows_the_language_the_staff_member_chose(
    browser: Browser, stack: Stack, browsing: list[Browsing]
) -> None:
    agent = create_agent(stack, "Lena Language")
    english, german = all_labels("en")["console"], all_labels("de")["console"]
    tab = Browsing(browser, "en-GB")
    browsing.append(tab)
    page = tab.page
    page.goto(f"{stack.gateway_url}/agent")
    expect(page.locator("#app-title")).to_have_text(english["title"])
    page.get_by_label(english["username"]).fill(agent.username)
    page.get_by_label(english["password"]).fill(PASSWORD)
    page.get_by_role("button", name=english["sign_in"]).click()
    expect(page.locator("#console-view")).to_be_visible()

    page.get_by_test_id("locale-select").select_option("de")  # saves, then the page reloads in German
    expect(page.locator("#app-title")).to_have_text(german["title"])
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#console-view")).to_be_visible()
    expect(page.locator("#queue-title")).to_contain_text(german["queue"])
    expect(page.get_by_role("button", name=german["logout"])).to_be_visible()

    page.reload()  # the choice is the staff member's, kept by the server: the browser still asks for English
    expect(page.locator("#app-title")).to_have_text(german["title"])
    expect(page.get_by_test_id("locale-select")).to_have_value("de")
