"""The admin's portfolio upload page in headless Chromium against the real stack: a CSV with one
good and one bad row is uploaded; the page shows the counts and the refused row (line, column,
reason); a file without the required columns is refused as a whole; strict CSP, no script errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Expect

from people.auth.models import Role
from tests.admin_browser import AdminPage, in_thread
from tests.e2e.test_handoff import create_staff
from tests.people.portfolio.portfolio import as_csv, creditor, row
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = Expect()
expect.set_options(timeout=20_000)


@pytest.fixture
def admin_page(browser: Browser, stack: Stack) -> Iterator[AdminPage]:
    opened = AdminPage(browser, stack)
    try:
        yield opened
    finally:
        opened.context.close()


def test_admin_uploads_a_portfolio_and_sees_counts_and_refused_rows(
    admin_page: AdminPage, stack: Stack, tmp_path: Path
) -> None:
    who = creditor()
    good = tmp_path / "portfolio.csv"
    good.write_bytes(as_csv([row(who, "PF/2026/00001"), row(who, "PF/2026/00002", due_date="31.01.2027")]))
    bad = tmp_path / "names.csv"
    bad.write_bytes(b"creditor,reference\nX,Y-1234\n")
    admin_page.login(in_thread(create_staff, stack, "Iris", Role.ADMIN))
    page = admin_page.page
    admin_page.failed.clear()  # the console's login page answers 401 before signing in
    response = page.goto(f"{stack.gateway_url}/agent/admin/portfolio")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#who")).to_contain_text("Iris (admin)")
    expect(page.get_by_role("link", name="Portfolio import")).to_be_visible()

    page.get_by_label("File (CSV or JSON Lines)").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#status")).to_contain_text("some rows were refused")
    expect(page.locator('#counts tr[data-count="rows"] td')).to_have_text("2")
    expect(page.locator('#counts tr[data-count="debts_created"] td')).to_have_text("1")
    expect(page.locator('#counts tr[data-count="rejected"] td')).to_have_text("1")
    refused = page.locator("#errors tbody tr")
    expect(refused).to_have_count(1)
    expect(refused.first.locator("td")).to_have_text(["3", "due_date", "not a date (YYYY-MM-DD)"])

    page.get_by_label("File (CSV or JSON Lines)").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#status")).to_contain_text("Required columns are missing: first_name")
    expect(page.locator("#result")).to_be_hidden()
    assert admin_page.errors == []
    unexpected = [(s, url) for s, url in admin_page.failed if not url.endswith("/favicon.ico") and s != 422]
    assert unexpected == []
