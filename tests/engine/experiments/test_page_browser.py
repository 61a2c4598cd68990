"""Issue 6 points 3 and 7 in headless Chromium against the real stack: an admin defines the first
reminder's framing experiment (neutral / loss aversion / social proof), starts it, debtors are
assigned as the reminder sender does, one of them then answers and verifies on the web chat, and
the page shows conversion per variant with intervals; the admin promotes the winner."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, Expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import make_engine
from engine.experiments import service
from engine.experiments.stats import wilson
from people.auth.models import Role
from people.debtors.models import Debtor
from tests.admin_browser import AdminPage, in_thread
from tests.e2e.test_handoff import create_staff
from tests.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = Expect()
expect.set_options(timeout=20_000)
MESSAGE = "utter_reminder_due_soon"
EMILY = "UK-300552"
T = TypeVar("T")


@pytest.fixture
def admin_page(browser: Browser, stack: Stack) -> Iterator[AdminPage]:
    opened = AdminPage(browser, stack)
    try:
        yield opened
    finally:
        opened.context.close()


def assign_demo_debtors(stack: Stack) -> dict[str, str]:
    """What the reminder sender does before sending the first reminder: reference -> variant."""

    async def run() -> dict[str, str]:
        engine = make_engine(stack.database_url)
        try:
            async with AsyncSession(engine) as session:
                debtors = (await session.execute(select(Debtor.reference, Debtor.id))).all()
                found = {}
                for reference, debtor_id in debtors:
                    assignment = await service.assign(session=session, message_key=MESSAGE, debtor_id=debtor_id)
                    assert assignment is not None
                    found[reference] = assignment.variant
                await session.commit()
                return found
        finally:
            await engine.dispose()

    return in_thread(asyncio.run, run())


def test_admin_runs_a_framing_experiment_and_promotes_the_winner(admin_page: AdminPage, stack: Stack) -> None:
    admin = in_thread(create_staff, stack, "Ada", Role.ADMIN)
    admin_page.login(admin)
    page = admin_page.page
    response = page.goto(f"{stack.gateway_url}/agent/admin/experiments")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#who")).to_contain_text("Ada (admin)")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    # ---- Define: the message's three framings are offered and pre-filled with even shares ----
    name = f"First reminder framing {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Message", exact=True).select_option(MESSAGE)
    rows = page.locator("#variant-rows tr")
    expect(rows).to_have_count(3)
    expected = [("neutral", MESSAGE, "34"), ("loss_aversion", f"{MESSAGE}_loss_aversion", "33"),
                ("social_proof", f"{MESSAGE}_social_proof", "33")]  # fmt: skip
    for i, (key, text_key, share) in enumerate(expected, start=1):
        expect(page.get_by_label(f"Variant {i} key")).to_have_value(key)
        expect(page.get_by_label(f"Variant {i} text")).to_have_value(text_key)
        expect(page.get_by_label(f"Variant {i} share")).to_have_value(share)
    expect(rows.nth(1).locator(".variant-preview")).to_contain_text("won't miss it")  # the English text
    expect(page.locator("#share-total")).to_have_text("Shares total 100%")

    # Shares that don't add up: the page says so, and so does the server.
    page.get_by_label("Variant 1 share").fill("50")
    expect(page.locator("#share-total")).to_have_text("Shares total 116% (must be 100%)")
    page.get_by_label("Outcome window (days)").fill("14")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#status")).to_have_text("The shares must add up to 100 %.")
    page.get_by_role("button", name="Split evenly").click()
    expect(page.locator("#share-total")).to_have_text("Shares total 100%")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#status")).to_contain_text(f"Saved draft “{name}”")
    row = page.locator("#experiments tbody tr", has_text=name)
    expect(row).to_have_attribute("data-status", "draft")
    expect(row).to_contain_text("neutral 34%, loss_aversion 33%, social_proof 33%")
    expect(page.get_by_label("Name", exact=True)).to_have_value("")  # the form is ready for the next one

    # A draft can still be changed: two weeks become three.
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#form-title")).to_have_text(f"Edit draft “{name}”")
    expect(page.get_by_label("Name", exact=True)).to_have_value(name)
    expect(page.get_by_label("Outcome window (days)")).to_have_value("14")
    expect(page.get_by_label("Variant 3 text")).to_have_value(f"{MESSAGE}_social_proof")
    page.get_by_label("Outcome window (days)").fill("21")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#status")).to_contain_text(f"Saved draft “{name}”")
    expect(page.locator("#form-title")).to_have_text("New experiment")
    expect(page.locator("#experiments tbody tr", has_text=name)).to_have_count(1)

    # ---- Start: running, results (nobody assigned yet: not enough data) ----
    row.get_by_role("button", name="Start").click()
    expect(row).to_have_attribute("data-status", "running")
    expect(page.locator("#status")).to_have_text(f"Started “{name}”.")
    results = page.locator("#results")
    expect(results).to_be_visible()
    expect(page.locator("#results-title")).to_have_text(f"Results: {name}")
    expect(results.locator(".metric")).to_have_count(4)
    expect(results.locator('[data-metric="paid"] h3')).to_have_text("Paid within 21 days")
    for key, _, _ in expected:
        variant_row = results.locator(f'[data-metric="replied"] tr[data-variant="{key}"]')
        expect(variant_row.locator(".n")).to_have_text("0")
    expect(results.locator('[data-metric="replied"] tr[data-variant="loss_aversion"] .verdict')).to_have_text(
        "Not enough data (needs 30 per variant)"
    )

    # ---- Debtors are assigned (as the reminder sender does); Emily answers and verifies ----
    variants = assign_demo_debtors(stack)
    assert variants == assign_demo_debtors(stack)  # asking again: the same answer for everybody
    session = f"xp-{uuid.uuid4().hex}"
    for text in ("hi", "how much do I owe", EMILY, "21/07/1992"):
        stack.say(session, text)
    page.get_by_role("button", name="Refresh").click()
    summary = page.locator("#results-summary")
    expect(summary).to_contain_text(f"{len(variants)} debtors assigned")
    emily = variants[EMILY]
    for metric in ("replied", "verified"):
        table = results.locator(f'[data-metric="{metric}"]')
        for key, _, _ in expected:
            n = sum(1 for v in variants.values() if v == key)
            variant_row = table.locator(f'tr[data-variant="{key}"]')
            expect(variant_row.locator(".n")).to_have_text(str(n))
            expect(variant_row.locator(".conversions")).to_have_text("1" if key == emily else "0")
        alike = sum(1 for v in variants.values() if v == emily)
        expect(table.locator(f'tr[data-variant="{emily}"] .rate')).to_have_text(f"{100 / alike:.1f}%")
        interval = wilson(1, alike)
        expect(table.locator(f'tr[data-variant="{emily}"] .ci')).to_have_text(
            f"{interval.low * 100:.1f}% – {interval.high * 100:.1f}%"
        )
        expect(table.locator(f'tr[data-variant="{emily}"] svg.ci-bar rect')).to_have_count(3)
    expect(page.locator('#experiments tr[data-status="running"]', has_text=name).locator(".assigned")).to_have_text(
        str(len(variants))
    )

    # ---- Promote the winner: everybody gets its text from now on ----
    page.get_by_label("Winner", exact=True).select_option("social_proof")
    page.get_by_role("button", name="Promote winner").click()
    expect(page.locator("#status")).to_have_text("Promoted “social_proof”: its text now goes to everybody.")
    expect(row).to_have_attribute("data-status", "promoted")
    expect(row).to_contain_text("social_proof 33% (winner)")
    expect(results.locator('[data-metric="replied"] tr[data-variant="social_proof"]')).to_contain_text("winner")
    expect(page.get_by_role("button", name="Promote winner")).to_be_disabled()

    async def promoted() -> service.Assignment | None:
        engine = make_engine(stack.database_url)
        try:
            async with AsyncSession(engine) as db:
                emily_id = await db.scalar(select(Debtor.id).where(Debtor.reference == EMILY))
                assert emily_id is not None
                return await service.assign(session=db, message_key=MESSAGE, debtor_id=emily_id)
        finally:
            await engine.dispose()

    found = in_thread(asyncio.run, promoted())
    assert found is not None and (found.variant, found.text_key, found.promoted) == (
        "social_proof",
        f"{MESSAGE}_social_proof",
        True,
    )

    # Stop it again (the stack is shared with the reminder tests): the message's own text is sent.
    row.get_by_role("button", name="Stop").click()
    expect(row).to_have_attribute("data-status", "stopped")
    assert in_thread(asyncio.run, promoted()) is None
    assert admin_page.errors == [], admin_page.errors
    api = f"{stack.gateway_url}/agent/api/admin/experiments"
    assert [(status, url) for status, url in admin_page.failed if url.startswith(api)] == [(422, api)]
