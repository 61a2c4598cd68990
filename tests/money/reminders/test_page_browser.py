"""Issue 6 points 4 and 7 in headless Chromium against the real stack: an admin opens the reminders
page, sees the contact rules per jurisdiction, runs the planner and finds the planned reminder for a
debtor whose night it is (held until their morning, not sent), then opens that debtor's history."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Expect
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import make_engine
from people.auth.models import Role
from tests.admin_browser import AdminPage, in_thread
from tests.e2e.test_handoff import create_staff
from tests.money.reminders.conftest import make_debtor
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = Expect()
expect.set_options(timeout=20_000)


def night_zone(now: datetime) -> str:
    """A fixed-offset zone where it is now between 03:00 and 04:00: outside every jurisdiction's hours."""
    offset = (3 - now.hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-5 is UTC+5


def add_sleeping_debtor(stack: Stack) -> tuple[str, str]:
    async def run() -> tuple[str, str]:
        zone = night_zone(datetime.now(UTC))
        local_today = datetime.now(ZoneInfo(zone)).date()
        engine = make_engine(stack.database_url)
        try:
            async with AsyncSession(engine) as session:
                debtor, _ = await make_debtor(session, due=local_today + timedelta(days=2), timezone=zone)
                reference = debtor.reference
                await session.commit()
                return reference, zone
        finally:
            await engine.dispose()

    return in_thread(asyncio.run, run())


@pytest.fixture
def admin_page(browser: Browser, stack: Stack) -> Iterator[AdminPage]:
    opened = AdminPage(browser, stack)
    try:
        yield opened
    finally:
        opened.context.close()


def test_admin_plans_a_reminder_and_sees_it_held_for_the_debtors_morning(admin_page: AdminPage, stack: Stack) -> None:
    reference, zone = add_sleeping_debtor(stack)
    admin_page.login(in_thread(create_staff, stack, "Rita", Role.ADMIN))
    page = admin_page.page
    admin_page.failed.clear()  # the console's login page answers 401 before signing in
    response = page.goto(f"{stack.gateway_url}/agent/admin/reminders")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#who")).to_contain_text("Rita (admin)")

    # The rules per jurisdiction, as configured, with the coming public holidays of each country.
    expect(page.locator("#rules tbody tr")).to_have_count(4)
    expect(page.locator("#rules thead")).to_contain_text("Jurisdiction")
    expect(page.locator('#rules tr[data-country="GB"]')).to_contain_text("mon 08:00–21:00")
    expect(page.locator('#rules tr[data-country="GB"]')).to_contain_text("1 per 1 d, 3 per 7 d")
    expect(page.locator('#rules tr[data-country="BR"]')).to_contain_text("sat 08:00–14:00")
    expect(page.locator('#rules tr[data-country="DE"]')).to_contain_text("holidays")

    # Run the planner and look the debtor up.
    page.get_by_label("Debtor reference").fill(reference)
    page.get_by_role("button", name="Run planner now").click()
    expect(page.locator("#status")).to_contain_text("Planner ran")
    rows = page.locator("#reminders tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text(reference)
    expect(row).to_contain_text("Due soon")
    expect(row).to_contain_text("Scheduled")  # it is the middle of their night: not sent, waiting
    expect(row).to_contain_text("utter_reminder_due_soon")

    # The debtor's history.
    row.get_by_role("button").click()
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("#history-debtor")).to_contain_text(f"time zone {zone}")
    expect(page.locator("#history-table tbody tr")).to_have_count(1)
    expect(page.locator("#history-table tbody tr").first).to_contain_text("Scheduled")

    # Filtering by status: it is not among the sent ones.
    page.get_by_label("Status").select_option("sent")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#no-reminders")).to_be_visible()
    assert admin_page.errors == []
    assert [(status, url) for status, url in admin_page.failed if not url.endswith("/favicon.ico")] == []
