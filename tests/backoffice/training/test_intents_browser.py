"""Issue 6 point 7, "retrain-evaluate-activate cycle end to end", on the real processes, through
the Intents admin page in headless Chromium and the admin API beside it: an admin adds an example
by the API and others on the page (opens a locale and an intent, adds / edits / deletes; held-out
and duplicate sentences are refused with a clear message), retrains (real `rasa train` in the
gateway's background) with a live progress bar while the bot keeps answering, reads both models'
held-out scores, activates the new model (the running Rasa hot-swaps it while a debtor keeps
talking) and re-activates the earlier one. One real retrain serves both views (it is the slow
part: `rasa train`, then a Rasa server per evaluated model). The shared stack is left on its
original model."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Expect, Page

from backoffice.training import data
from people.auth.models import Role
from tests.backoffice.training.real_stack import LOCALES, Admin, Chatter, isolate_models, parse, rasa_status
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


def login(page: Page, stack: Stack) -> str:
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
    return username


def api_examples(admin: Admin, text: str) -> None:
    """An example added by the API; held-out and duplicate sentences are refused."""
    added = admin.send("POST", "/examples", {"locale": "en", "intent": "check_balance", "text": text})
    assert added.status_code == 201, added.text
    heldout = admin.send("POST", "/examples", {"locale": "en", "intent": "greet", "text": "hello there"})
    assert heldout.json() == {"detail": "heldout_example"}
    assert admin.send("POST", "/examples", {"locale": "en", "intent": "greet", "text": "hello"}).status_code == 409
    balance = next(i for i in admin.get("/examples?locale=en")["intents"] if i["name"] == "check_balance")
    assert balance["examples"][-1]["text"] == text


def follow_training(admin: Admin, stack: Stack, version_id: int) -> dict:
    """The API's view of the running job: a second request waits its turn, progress only grows,
    the bot answers meanwhile; then the finished version."""
    started = time.monotonic()
    assert admin.send("POST", "/versions").status_code == 409
    seen: list[int] = []
    while (version := admin.get(f"/versions/{version_id}"))["status"] not in ("ready", "failed"):
        seen.append(version["progress"])
        assert stack.say("e2e-training-during", "hello"), "the bot answers while a model trains"
        assert time.monotonic() - started < TRAINING_TIMEOUT_MS / 1000, version
        time.sleep(1)
    assert version["status"] == "ready", (version["error"], version["log_tail"])
    assert seen == sorted(seen) and any(0 < p < 100 for p in seen), seen
    assert "Your Rasa model is trained and saved" in version["log_tail"]
    print(f"\nretrain: trained in {version['train_seconds']} s, ready after {time.monotonic() - started:.0f} s")
    return version


def api_comparison(admin: Admin, version_id: int, original: int | None) -> dict:
    """Both models' held-out scores, per locale and intent; the current model's version."""
    comparison = admin.get(f"/versions/{version_id}/comparison")
    assert comparison["current_evaluated"] and set(comparison["locales"]) == LOCALES
    for locale, local in comparison["locales"].items():
        assert local["current"]["n"] == local["candidate"]["n"] > 100
        assert local["candidate"]["macro_f1"] > 0.8 and local["current"]["macro_f1"] > 0.8
        assert all(row["current"] and row["candidate"] for row in local["intents"])
        print(
            f"  {locale}: macro-F1 current {local['current']['macro_f1']:.3f} -> new {local['candidate']['macro_f1']:.3f}"
        )
    current_id = comparison["active_id"]
    assert current_id is not None and (original is None or original == current_id)
    return admin.get(f"/versions/{current_id}")


def test_admin_edits_examples_retrains_and_activates(page: Page, stack: Stack) -> None:
    models = isolate_models(stack)
    admin = Admin(stack, login(page, stack), PASSWORD)
    original = admin.get("/versions")["active_id"]  # None: the repository's model, not registered yet
    status = page.locator("#status")

    # ---- By the API: an example, and the refusals ----
    text = "whats the full sum i still have outstanding with you lot"
    api_examples(admin, text)

    # ---- On the page: a locale and an intent ----
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

    # ---- Retrain with a live progress bar; the API follows the same job ----
    page.get_by_role("button", name="Retrain").click()
    expect(page.locator("#job")).to_be_visible()
    expect(page.get_by_role("button", name="Retrain")).to_be_disabled()
    expect(page.locator("#job-title")).to_contain_text(re.compile(r"v\d+: (Queued|Training|Evaluating)"))
    new_id = int(re.findall(r"v(\d+)", page.locator("#job-title").inner_text())[0])
    assert admin.get("/versions")["running_id"] == new_id
    progress = page.locator("#job-progress")
    expect(progress).not_to_have_attribute("value", "0")
    version = follow_training(admin, stack, new_id)
    model = Path(version["model_file"])
    assert model.parent == models and model.is_file()
    expect(status).to_contain_text("is trained and evaluated", timeout=TRAINING_TIMEOUT_MS)
    expect(progress).to_have_attribute("value", "100")
    expect(page.locator("#models-message")).to_contain_text("is trained and evaluated")

    # ---- The comparison: by the API in every locale, on the page for the selected one ----
    current = api_comparison(admin, new_id, original)
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

    # ---- Activate: the running Rasa hot-swaps while a debtor keeps talking ----
    before = page.locator('#versions tbody tr[data-status="active"]').get_attribute("data-version")
    assert before == str(current["id"])
    chatter = Chatter(stack)
    chatter.start()
    try:
        chatter.wait_for(1)
        page.get_by_role("button", name=f"Activate v{new_id}", exact=True).click()
        expect(status).to_have_text(f"v{new_id} is now the active model.", timeout=200_000)
        chatter.wait_for(chatter.turns + 2)
    finally:
        chatter.stop.set()
        chatter.join(timeout=120)
    assert chatter.failures == [] and chatter.turns > 2, (chatter.failures, chatter.turns)
    expect(page.locator(f'#versions tr[data-version="{new_id}"]')).to_have_attribute("data-status", "active")
    assert rasa_status(stack)["model_file"] == model.name and model.name.startswith("nlu-")
    assert parse(stack, text) == "check_balance"
    assert stack.say("e2e-training-after", "what do I owe?")
    assert (models / "active.tar.gz").resolve() == model.resolve()
    expect(page.locator("#untrained")).to_have_text("The active model includes every example change.")
    listing = admin.get("/versions")
    assert listing["active_id"] == new_id and listing["untrained_changes"] == 0

    # ---- Re-activate the earlier model ----
    earlier = page.locator(f'#versions tr[data-version="{before}"]')
    expect(earlier).to_have_attribute("data-status", "ready")
    earlier.get_by_role("button", name="Re-activate").click()
    expect(status).to_contain_text("is now the active model.", timeout=200_000)
    expect(earlier).to_have_attribute("data-status", "active")
    expect(
        page.locator(f'#versions tr[data-version="{new_id}"]').get_by_role("button", name="Re-activate")
    ).to_be_visible()
    assert rasa_status(stack)["model_file"] == Path(current["model_file"]).name
    assert admin.get("/versions")["active_id"] == current["id"]
    assert (models / "active.tar.gz").resolve() == Path(current["model_file"]).resolve()
    assert stack.say("browser-training-after", "hello")
