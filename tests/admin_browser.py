"""What the admin pages' browser tests share: an admin's page with its console errors and
refused requests recorded, and database work run beside Playwright's sync API."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Expect, Page

from tests.e2e.test_handoff import PASSWORD
from tests.stack import Stack

expect = Expect()
expect.set_options(timeout=20_000)
T = TypeVar("T")


def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database work from the test itself: Playwright's sync API owns this thread's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


class AdminPage:
    def __init__(self, browser: Browser, stack: Stack) -> None:
        self.base = stack.gateway_url
        self.context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.failed: list[tuple[int, str]] = []
        self.page.on("response", lambda r: self.failed.append((r.status, r.url)) if r.status >= 400 else None)

    def _console(self, message: ConsoleMessage) -> None:
        # Content-Security-Policy violations are console errors; refused API calls (the 401 login
        # page, the 422 the test provokes) are shown by the page itself, not errors of it.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def login(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.base}/agent")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#console-view")).to_be_visible()
