"""The embeddable widget (`/widget.js`) on a third-party host page, in headless Chromium against the real stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect

from channels import webchat
from tests.stack import Stack

HOST_URL = "https://host.test/"  # a public HTTPS site, like a creditor's, served by Playwright
REPLY_TIMEOUT_MS = 60_000
FRAME = "iframe[title='Chat with the assistant']"

# A creditor's page with its own (hostile) styles; the snippet is included twice on purpose.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Creditor</title><link rel="icon" href="data:,">
<style>
  body {{ margin: 0; font: 14px serif; }}
  button {{ width: 300px !important; height: 20px; background: red; border-radius: 0; }}
  iframe {{ border: 5px solid red; }}
  div {{ padding: 30px; }}
  #content {{ height: 2000px; }}
</style></head>
<body>
  <button id="host-button" type="button">Pay invoice</button>
  <main id="content">Your invoice</main>
  <script src="{src}" async {attrs}></script>
  <script src="{src}" async {attrs}></script>
</body></html>
"""


def test_widget_js_is_served() -> None:
    app = FastAPI()
    app.include_router(webchat.router)
    response = TestClient(app).get("/widget.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "max-age=" in response.headers["cache-control"]
    assert "DebtorAssistantWidget" in response.text
    assert response.text.isascii()  # decoded with the host page's charset


class Host:
    """A browser context showing the creditor's page (served by Playwright) with the widget snippet."""

    def __init__(self, browser: Browser, stack: Stack, width: int, height: int, attrs: str) -> None:
        self.width, self.height = width, height
        self.context: BrowserContext = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        # Chromium's Local Network Access: a public page may reach the gateway on 127.0.0.1 only with the
        # user's permission (a real deployment serves the assistant from a public host: no prompt there).
        self.context.grant_permissions(["local-network-access"])
        self.context.set_default_timeout(REPLY_TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        html = HOST_PAGE.format(src=f"{stack.gateway_url}/widget.js", attrs=attrs)
        self.page.route(HOST_URL, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
        self.page.route("https://host.test/**", self._not_found)

    @staticmethod
    def _not_found(route: Route) -> None:
        if route.request.url == HOST_URL:
            route.fallback()
        else:
            route.fulfill(status=404, body="")

    def open(self) -> Host:
        self.page.goto(HOST_URL)
        expect(self.launcher).to_be_visible()
        return self

    @property
    def launcher(self) -> Locator:
        return self.page.get_by_test_id("widget-launcher")

    @property
    def panel(self) -> Locator:
        return self.page.get_by_test_id("widget-panel")

    @property
    def close_button(self) -> Locator:
        return self.page.get_by_test_id("widget-close")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def desktop(browser: Browser, stack: Stack) -> Iterator[Host]:
    host = Host(browser, stack, 1280, 800, 'data-locale="en"')
    try:
        yield host.open()
        assert host.errors == [], f"errors in the page: {host.errors}"
    finally:
        host.close()


@pytest.fixture
def phone(browser: Browser, stack: Stack) -> Iterator[Host]:
    host = Host(
        browser, stack, 360, 740, 'data-locale="en" data-position="left" data-label="Questions about your bill?"'
    )
    try:
        yield host.open()
        assert host.errors == [], f"errors in the page: {host.errors}"
    finally:
        host.close()


@pytest.mark.browser
def test_widget_chats_in_an_iframe(desktop: Host, stack: Stack) -> None:
    page, launcher, panel = desktop.page, desktop.launcher, desktop.panel
    assert page.locator("#debtor-assistant-widget").count() == 1  # included twice, mounted once
    expect(launcher).to_have_count(1)
    expect(launcher).to_have_accessible_name("Chat with the assistant")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()
    assert page.locator("iframe").count() == 0  # the chat is only loaded once opened

    # The host page keeps its layout; its CSS does not reach the widget.
    assert page.locator("#host-button").bounding_box() == {"x": 0, "y": 0, "width": 300, "height": 20}
    assert page.evaluate("document.documentElement.scrollWidth") == desktop.width
    box = launcher.bounding_box()
    assert box is not None and box["width"] == 56 and box["height"] == 56
    assert box["x"] + box["width"] == desktop.width - 20 and box["y"] + box["height"] == desktop.height - 20

    # Keyboard: the launcher is focusable and opens the panel.
    page.locator("#host-button").focus()
    page.keyboard.press("Tab")
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    frame_el = page.locator(FRAME)
    expect(frame_el).to_have_attribute("allow", "clipboard-write")
    src = frame_el.get_attribute("src") or ""
    assert src.startswith(f"{stack.gateway_url}/?"), src
    assert "embed=1" in src and "locale=en" in src
    panel_box = panel.bounding_box()
    assert panel_box is not None
    assert panel_box["width"] <= 400 and panel_box["height"] <= 640
    assert panel_box["x"] + panel_box["width"] <= desktop.width and panel_box["y"] >= 0

    chat = page.frame_locator(FRAME)
    field = chat.locator("#message-input")
    field.fill("hello")
    field.press("Enter")
    expect(chat.locator("#log .msg.bot").first).to_contain_text("automated assistant", timeout=REPLY_TIMEOUT_MS)

    # Escape in the widget closes the panel and gives focus back to the launcher.
    desktop.close_button.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")

    # Reopening keeps the conversation; the close button closes it too.
    launcher.click()
    expect(panel).to_be_visible()
    expect(chat.locator("#log .msg.bot").first).to_contain_text("automated assistant")
    desktop.close_button.click()
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()


@pytest.mark.browser
def test_widget_is_full_screen_on_a_phone(phone: Host) -> None:
    page, launcher, panel = phone.page, phone.launcher, phone.panel
    expect(launcher).to_have_accessible_name("Questions about your bill?")
    box = launcher.bounding_box()
    assert box is not None and box["x"] == 20  # data-position="left"

    launcher.click()
    expect(panel).to_be_visible()
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": phone.width, "height": phone.height}
    expect(launcher).to_be_hidden()  # covered by the panel: not reachable either
    expect(phone.close_button).to_be_visible()
    expect(page.frame_locator(FRAME).locator("#message-input")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") == phone.width

    phone.close_button.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_visible()
    expect(launcher).to_be_focused()
