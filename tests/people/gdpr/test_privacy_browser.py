"""Issue 6 points 6/7 in headless Chromium against the real stack: an admin finds a demo debtor,
downloads the JSON export and sees it in the audit log; erases a debtor who chatted with the real
Rasa (whose tracker is emptied); an agent is refused the page."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Expect, Page

from tests.stack import ROOT, Stack
from tests.webchat import conversation_key

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = Expect()
expect.set_options(timeout=30_000)
PASSWORD = f"privacy-e2e-{uuid.uuid4().hex}"


def create_staff(stack: Stack, name: str, role: str) -> str:
    """A console user in the stack's database, made the way an operator would."""
    username = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.org"
    subprocess.run(
        [sys.executable, "-m", "app.manage", "create-staff", "--username", username, "--display-name", name,
         "--role", role],
        cwd=ROOT, env={**stack.env(), "STAFF_PASSWORD": PASSWORD}, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return username


def database(stack: Stack) -> Path:
    return Path(stack.database_url.split("///", 1)[1])


def signed_in(browser: Browser, stack: Stack, username: str) -> tuple[BrowserContext, Page, list[str]]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login = context.request.post(
        f"{stack.gateway_url}/agent/api/login", data=json.dumps({"username": username, "password": PASSWORD}),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert login.status == 200, login.text()
    return context, page, errors


def chatting_debtor(stack: Stack) -> tuple[str, str, str]:
    """A debtor (new, so erasing them disturbs no other test) with a real conversation in Rasa."""
    session_id = f"gdpr-{uuid.uuid4().hex}"
    stack.say(session_id, "hello")
    reference = f"QQ-{uuid.uuid4().int % 10**6:06d}"
    with sqlite3.connect(database(stack)) as db:
        db.execute(
            "INSERT INTO debtors (reference, reference_key, name, date_of_birth, locale, timezone, phone, email,"
            " preferred_channel, created_at) VALUES (?, ?, 'Rita Erasable', '1970-05-06', 'en', 'Europe/London',"
            " '+447700900999', 'rita@example.org', 'webchat', CURRENT_TIMESTAMP)",
            (reference, reference.replace("-", "")),
        )
        [(conversation,)] = db.execute(
            "SELECT id FROM conversations WHERE channel = 'webchat' AND external_id = ?",
            (conversation_key(db, stack.chat.session(session_id)),),
        ).fetchall()
        db.execute(
            "UPDATE conversations SET debtor_id = (SELECT id FROM debtors WHERE reference = ?) WHERE id = ?",
            (reference, conversation),
        )
    return reference, str(conversation), session_id


def rasa_user_texts(stack: Stack, conversation: str) -> list[str]:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/conversations/{conversation}/tracker"
    tracker = httpx.get(url, params=stack.rasa_auth, timeout=30)
    return [e.get("text") for e in tracker.json().get("events", []) if e.get("event") == "user"]


def test_admin_exports_a_debtor_reads_the_audit_log_and_erases(browser: Browser, stack: Stack) -> None:
    admin = create_staff(stack, "Dora", "admin")
    context, page, errors = signed_in(browser, stack, admin)
    try:
        response = page.goto(f"{stack.gateway_url}/agent/admin/privacy")
        assert response is not None and response.status == 200
        expect(page.locator("#who")).to_contain_text("Dora (admin)")
        expect(page.locator("#retention-table tbody tr")).to_have_count(4)

        # ---- Right of access: find Emily, download everything about her ----
        page.get_by_label("Case reference or debtor id").fill("uk 300552")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#debtor-title")).to_have_text("Emily Carter")
        expect(page.locator("#debtor-rows")).to_contain_text("ledger_entries")
        with page.expect_download() as info:
            page.get_by_role("link", name="Download export (JSON)").click()
        download = info.value
        assert download.suggested_filename.startswith("debtor-") and download.suggested_filename.endswith(".json")
        document = json.loads(Path(download.path()).read_text())
        [emily] = document["tables"]["debtors"]
        assert (emily["name"], emily["reference"], emily["date_of_birth"]) == (
            "Emily Carter",
            "UK-300552",
            "1992-07-21",
        )
        assert document["tables"]["debts"][0]["creditor"] == "Northern Water"

        # ---- The export is in the audit log, with who did it; filters and paging work ----
        row = page.locator("#audit-table tbody tr", has_text="gdpr.export").first
        expect(row).to_contain_text(admin)
        expect(row).to_contain_text("debtor")
        page.get_by_label("Action").select_option("gdpr.export")
        page.get_by_label("Actor").fill(admin)
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#audit-table tbody tr")).to_have_count(1)
        expect(page.locator("#audit-page")).to_have_text("Page 1 of 1 (1 event)")
        expect(page.locator("#audit-prev")).to_be_disabled()
        expect(page.locator("#audit-next")).to_be_disabled()

        # ---- Right to erasure: a debtor who talked to the real Rasa ----
        reference, conversation, session_id = chatting_debtor(stack)
        assert rasa_user_texts(stack, conversation) == ["hello"]
        page.get_by_label("Case reference or debtor id").fill(reference)
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#debtor-title")).to_have_text("Rita Erasable")
        page.get_by_label("How and when the request arrived (no personal data)").fill("Letter received today")
        erase = page.get_by_role("button", name="Erase")
        page.get_by_label("Type the case reference").fill("QQ-000000")
        expect(erase).to_be_disabled()
        page.get_by_label("Type the case reference").fill(reference.lower())
        expect(erase).to_be_enabled()
        erase.click()
        expect(page.locator("#status")).to_contain_text("Erased (request #")
        expect(page.locator("#debtor-title")).to_have_text("erased")
        expect(page.locator("#debtor-state")).to_contain_text("Erased on")
        expect(page.locator("#erasures-table tbody tr").first).to_contain_text("1 cleared")

        assert rasa_user_texts(stack, conversation) == []
        with sqlite3.connect(database(stack)) as db:
            texts = [t for (t,) in db.execute("SELECT text FROM messages WHERE conversation_id = ?", (conversation,))]
            [(external_id,)] = db.execute("SELECT external_id FROM conversations WHERE id = ?", (conversation,))
        assert texts and set(texts) == {"[erased]"} and external_id == f"erased:{conversation}"
        assert stack.chat.session(session_id) != external_id
        assert errors == [], errors
    finally:
        context.close()


def test_agents_are_refused_the_privacy_page_and_api(browser: Browser, stack: Stack) -> None:
    agent = create_staff(stack, "Arne", "agent")
    context, page, _errors = signed_in(browser, stack, agent)
    try:
        response = page.goto(f"{stack.gateway_url}/agent/admin/privacy")
        assert response is not None and response.status == 403
        api = context.request.get(f"{stack.gateway_url}/agent/api/admin/gdpr/debtors/1/export")
        assert api.status == 403
    finally:
        context.close()
