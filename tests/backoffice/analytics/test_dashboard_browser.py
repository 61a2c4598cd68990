"""The dashboard page in headless Chromium against the real stack: after two web chat
conversations an admin sees them counted, charts drawn, breakdowns, a CSV download, and a clear
message for an invalid filter — with nothing loaded from outside and no script errors (strict CSP)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Expect

from tests.stack import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = Expect()
expect.set_options(timeout=30_000)
PASSWORD = f"dashboard-e2e-{uuid.uuid4().hex}"


def create_admin(stack: Stack, display_name: str) -> str:
    """An admin in the stack's own database, made the way an operator would (Playwright's sync API
    owns this thread's event loop, so no asyncio here)."""
    username = f"admin-{uuid.uuid4().hex[:10]}@example.org"
    subprocess.run(
        [sys.executable, "-m", "app.manage", "create-staff", "--username", username, "--display-name", display_name,
         "--role", "admin"],
        cwd=ROOT,
        env={**stack.env(), "STAFF_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    return username


def test_admin_sees_web_chat_conversations_on_the_dashboard(
    browser: Browser,
    stack: Stack,
    tmp_path: Path,
) -> None:
    for n in range(2):
        replies = stack.say(f"dashboard-{n}-{uuid.uuid4().hex[:8]}", "hello")
        assert replies, "the assistant answered nothing"
    admin = create_admin(stack, "Dana Admin")

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Refused requests (401 before login, 422 for the bad range) are asserted on; anything else
    # in the console (a CSP violation, a script error) fails the test.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(stack.gateway_url) else None)
    try:
        anonymous = page.goto(f"{stack.gateway_url}/agent/admin/dashboard")
        assert anonymous is not None and anonymous.status == 401
        login = context.request.post(
            f"{stack.gateway_url}/agent/api/login", data={"username": admin, "password": PASSWORD}
        )
        assert login.status == 200, login.text()

        response = page.goto(f"{stack.gateway_url}/agent/admin/dashboard")
        assert response is not None and response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator("#who")).to_contain_text("Dana Admin (admin)")

        # KPI tiles: at least the two conversations of today, contained by the assistant.
        conversations = page.locator('[data-kpi="conversations"] .kpi-value')
        expect(conversations).to_have_text(re.compile(r"^[1-9][\d,]*$"))
        assert int(conversations.inner_text().replace(",", "")) >= 2
        expect(page.locator('[data-kpi="containment"] .kpi-value')).to_have_text(re.compile(r"^\d+\.\d%$"))

        # Charts drawn as SVG: one bar per day, today's conversations bar is not empty.
        bars = page.locator('[data-chart="conversations"] rect.col.s0')
        expect(bars).to_have_count(30)
        assert float(bars.last.get_attribute("data-value") or 0) >= 2
        assert float(bars.last.get_attribute("height") or 0) > 0
        expect(page.locator('[data-chart="rates"] circle.dot').first).to_be_attached()
        for key in ("payments", "plans", "promises", "opt-outs"):
            expect(page.locator(f'[data-chart="{key}"] svg')).to_be_visible()

        # Breakdowns by channel and locale.
        webchat = page.locator('#by-channel tr[data-value="webchat"]')
        expect(webchat).to_contain_text("Web chat")
        assert int(webchat.locator("td").first.inner_text().replace(",", "")) >= 2
        expect(page.locator("#by-locale tbody tr").first).to_be_visible()
        expect(page.locator("#by-reason")).to_contain_text("Asked for a person")

        # The CSV download follows the filters on the page.
        expect(page.locator("#f-from")).not_to_have_value("")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        assert download.value.suggested_filename.startswith("dashboard_")
        saved = tmp_path / "dashboard.csv"
        download.value.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
        total = next(
            r for r in rows if r["bucket"] == "total" and r["dimension"] == "channel" and r["value"] == "webchat"
        )
        assert int(total["conversations"]) >= 2

        # Weekly buckets, then an invalid range: a clear message, the last report stays.
        page.get_by_label("Group by").select_option("week")
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"bucket=week"))
        expect(page.locator("#range")).to_contain_text("per week")
        page.get_by_label("From", exact=True).fill("2030-01-02")
        page.get_by_label("To", exact=True).fill("2030-01-01")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("#status")).to_have_text("“From” must not be after “To”.")
        expect(conversations).to_have_text(re.compile(r"^[1-9]"))

        assert errors == [], errors
        assert outside == [], outside
    finally:
        context.close()
