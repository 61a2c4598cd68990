"""The Intents admin page in headless Chromium against the real stack: an admin logs in, opens a
locale and an intent, adds / edits / deletes examples (a held-out sentence is refused with a
clear message), retrains with a live progress bar, reads the comparison, activates the new model
and re-activates the earlier one. The shared stack is left on its original model."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Expect, Page

from backoffice.training import data
from people.auth.models import Role
from tests.backoffice.training.test_e2e import isolate_models, rasa_status
from tests.stack import MODEL, ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
expect = Expect()
expect.set_options(timeout=30_000)
TRAINING_TIMEOUT_MS = 400_000
PASSWORD = f"intents-{uuid.uuid4().hex}"


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    isolate_models(stack)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # Console errors such as CSP refusals; HTTP error answers (a refused example) are expected.
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("request", lambda r: problems.append(r.url) if not r.url.startswith((stack.gateway_url, "data:")) else None)
    finished = False
    try:
        yield page
        finished = True
        assert problems == [], problems
    finally:
        context.close()
        if not finished:  # leave the shared stack on a working model
            url = f"http://127.0.0.1:{stack.ports['rasa']}/model"
            httpx.put(url, params=stack.rasa_auth, json={"model_file": str(MODEL)}, timeout=200)


def create_admin(stack: Stack) -> str:
    """Made the way an operator would (the sync Playwright API owns this thread's event loop)."""
    username = f"admin-{uuid.uuid4().hex[:10]}@example.org"
    subprocess.run(
        [sys.executable, "-m", "app.manage", "create-staff", "--username", username, "--display-name", "Ada Admin",
         "--role", Role.ADMIN.value],
        cwd=ROOT, env={**stack.env(), "STAFF_PASSWORD": PASSWORD}, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return username


def login(page: Page, stack: Stack) -> None:
    username = create_admin(stack)
    page.goto(f"{stack.gateway_url}/agent")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#console-view")).to_be_visible()
    response = page.goto(f"{stack.gateway_url}/agent/admin/intents")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#who")).to_contain_text("Ada Admin (admin)")


def test_admin_edits_examples_retrains_and_activates(page: Page, stack: Stack) -> None:
    login(page, stack)
    status = page.locator("#status")

    # ---- A locale and an intent ----
    page.get_by_role("tab", name="sv").click()
    expect(page.get_by_role("tab", name="sv")).to_have_attribute("aria-selected", "true")
    count = len(data.repository_examples("sv")["greet"])
    greet = page.locator('#intents tr[data-intent="greet"]')
    expect(greet.locator(".count")).to_have_text(str(count))
    greet.get_by_role("button", name="greet").click()
    expect(page.locator("#intent-title")).to_have_text(f"Examples of “greet” (sv, {count})")
    expect(page.locator("#examples tbody tr")).to_have_count(count)

    # ---- Add: a held-out sentence is refused, a new one is listed as the admin's ----
    field = page.get_by_label("New example")
    field.fill("hallåja")
    page.get_by_role("button", name="Add example").click()
    expect(status).to_contain_text("held-out evaluation set")
    expect(page.locator("#example-message")).to_contain_text("held-out evaluation set")  # next to the form
    field.fill("hej hej, är det ni som har skickat brevet")
    page.get_by_role("button", name="Add example").click()
    expect(status).to_have_text("Example added. Retrain to use it.")
    added = page.locator("#examples tbody tr", has_text="hej hej, är det ni som har skickat brevet")
    expect(added).to_contain_text("added by Ada Admin")
    expect(greet.locator(".count")).to_have_text(str(count + 1))
    expect(page.locator("#untrained")).to_contain_text("not in the active model yet")

    # ---- Edit, then delete (a second click confirms) ----
    added.get_by_role("button", name="Edit").click()
    page.get_by_label("Edit example").fill("hej hej, är det ni som skickade brevet till mig")
    page.get_by_role("button", name="Save").click()
    expect(status).to_have_text("Example changed.")
    edited = page.locator("#examples tbody tr", has_text="hej hej, är det ni som skickade brevet till mig")
    expect(edited).to_have_count(1)
    expect(page.locator("#examples tbody tr", has_text="har skickat brevet")).to_have_count(0)
    expect(edited).to_contain_text("edited by Ada Admin")
    edited.get_by_role("button", name="Delete").click()
    edited.get_by_role("button", name="Confirm delete").click()
    expect(status).to_have_text("Example deleted.")
    expect(page.locator("#examples tbody tr", has_text="hej hej, är det ni")).to_have_count(0)
    expect(greet.locator(".count")).to_have_text(str(count))
    field.fill("hej, det gäller min skuld")
    page.get_by_role("button", name="Add example").click()
    expect(status).to_have_text("Example added. Retrain to use it.")

    # ---- Retrain with a live progress bar ----
    page.get_by_role("button", name="Retrain").click()
    expect(page.locator("#job")).to_be_visible()
    expect(page.get_by_role("button", name="Retrain")).to_be_disabled()
    expect(page.locator("#job-title")).to_contain_text(re.compile(r"v\d+: (Queued|Training|Evaluating)"))
    progress = page.locator("#job-progress")
    expect(progress).not_to_have_attribute("value", "0")
    expect(status).to_contain_text("is trained and evaluated", timeout=TRAINING_TIMEOUT_MS)
    expect(progress).to_have_attribute("value", "100")
    expect(page.locator("#models-message")).to_contain_text("is trained and evaluated")
    new_id = int(re.findall(r"v(\d+)", page.locator("#job-title").inner_text())[0])

    # ---- The comparison, for the selected locale ----
    comparison = page.locator("#comparison-section")
    expect(comparison).to_be_visible()
    expect(page.locator("#comparison-title")).to_contain_text(f"v{new_id} compared with v")
    expect(page.locator("#comparison-title")).to_contain_text("(sv)")
    expect(page.locator("#comparison-summary")).to_contain_text(re.compile(r"Macro-F1: \d+\.\d% → \d+\.\d%"))
    expect(page.locator("#comparison tbody tr")).to_have_count(len(data.trainable_intents()))
    expect(page.locator('#comparison tbody tr[data-intent="greet"] td').nth(3)).to_have_text(re.compile(r"\d+\.\d%"))
    page.get_by_role("tab", name="de").click()
    expect(page.locator("#comparison-title")).to_contain_text("(de)")
    page.get_by_role("tab", name="sv").click()

    # ---- Activate it, then re-activate the earlier model ----
    before = page.locator('#versions tbody tr[data-status="active"]').get_attribute("data-version")
    page.get_by_role("button", name=f"Activate v{new_id}", exact=True).click()
    expect(status).to_have_text(f"v{new_id} is now the active model.", timeout=200_000)
    expect(page.locator(f'#versions tr[data-version="{new_id}"]')).to_have_attribute("data-status", "active")
    assert rasa_status(stack)["model_file"].startswith("nlu-")
    expect(page.locator("#untrained")).to_have_text("The active model includes every example change.")
    earlier = page.locator(f'#versions tr[data-version="{before}"]')
    expect(earlier).to_have_attribute("data-status", "ready")
    earlier.get_by_role("button", name="Re-activate").click()
    expect(status).to_contain_text("is now the active model.", timeout=200_000)
    expect(earlier).to_have_attribute("data-status", "active")
    expect(
        page.locator(f'#versions tr[data-version="{new_id}"]').get_by_role("button", name="Re-activate")
    ).to_be_visible()
    assert stack.say("browser-training-after", "hello")
