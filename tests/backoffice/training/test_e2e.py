"""Issue 6 point 7, "retrain-evaluate-activate cycle end to end", on the real processes: an admin
adds an example, retrains (real `rasa train` in the gateway's background), sees both models'
held-out scores, activates the new model (the running Rasa hot-swaps it while the bot keeps
answering), then re-activates the earlier one. The shared stack is left on its original model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from people.auth.models import Role
from tests.e2e.test_handoff import PASSWORD, create_staff
from tests.stack import MODEL, Stack

pytestmark = pytest.mark.e2e
BASE = "/agent/api/admin/training"
LOCALES = {"en", "sv", "de", "pt-BR"}


def isolate_models(stack: Stack) -> Path:
    """Trained models go to the stack's own folder, never to the developer's var/models. (Until the
    stack sets TRAINING_MODELS_DIR itself, the gateway is restarted once with it.)"""
    if "TRAINING_MODELS_DIR" not in stack.env():
        stack.extra_env["TRAINING_MODELS_DIR"] = str(stack.workdir / "models")
        stack.stop("gateway")
        stack.start("gateway")
        stack.wait_healthy()
    return Path(stack.env()["TRAINING_MODELS_DIR"])


class Admin:
    def __init__(self, stack: Stack) -> None:
        self.http = httpx.Client(base_url=stack.gateway_url, timeout=200)
        login = self.http.post(
            "/agent/api/login", json={"username": create_staff(stack, "Ada", Role.ADMIN), "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.csrf = login.json()["csrf_token"]

    def get(self, path: str) -> Any:
        response = self.http.get(BASE + path)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, BASE + path, json=body, headers={"X-CSRF-Token": self.csrf})


def rasa_status(stack: Stack) -> dict[str, Any]:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/status"
    return httpx.get(url, params=stack.rasa_auth, timeout=30).json()  # type: ignore[no-any-return]


def parse(stack: Stack, text: str) -> str:
    url = f"http://127.0.0.1:{stack.ports['rasa']}/model/parse"
    response = httpx.post(url, params=stack.rasa_auth, json={"text": text}, timeout=30)
    return str(response.json()["intent"]["name"])


class Chatter(threading.Thread):
    """A debtor who keeps talking while the model is swapped: every turn must be answered."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.stop, self.turns, self.failures = stack, threading.Event(), 0, []  # type: ignore[var-annotated]

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                replies = self.stack.say(f"e2e-training-{self.turns}", "hello")
                if not replies:
                    self.failures.append("no reply")
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))
            self.turns += 1


@pytest.fixture
def restore(stack: Stack) -> Iterator[dict[str, bool]]:
    """If the test stops half-way, the shared stack goes back to the repository's model."""
    outcome = {"done": False}
    try:
        yield outcome
    finally:
        if not outcome["done"]:
            url = f"http://127.0.0.1:{stack.ports['rasa']}/model"
            httpx.put(url, params=stack.rasa_auth, json={"model_file": str(MODEL)}, timeout=200)


def test_retrain_evaluate_activate_and_reactivate(stack: Stack, restore: dict[str, bool]) -> None:
    models = isolate_models(stack)
    admin = Admin(stack)
    original = admin.get("/versions")["active_id"]  # None: the repository's model, not registered yet

    # ---- An admin adds an example; held-out and duplicate sentences are refused ----
    text = "whats the full sum i still have outstanding with you lot"
    added = admin.send("POST", "/examples", {"locale": "en", "intent": "check_balance", "text": text})
    assert added.status_code == 201, added.text
    heldout = admin.send("POST", "/examples", {"locale": "en", "intent": "greet", "text": "hello there"})
    assert heldout.json() == {"detail": "heldout_example"}
    assert admin.send("POST", "/examples", {"locale": "en", "intent": "greet", "text": "hello"}).status_code == 409
    balance = next(i for i in admin.get("/examples?locale=en")["intents"] if i["name"] == "check_balance")
    assert balance["examples"][-1]["text"] == text

    # ---- Retrain in the background, with progress; a second request waits its turn ----
    started = time.monotonic()
    queued = admin.send("POST", "/versions")
    assert queued.status_code == 202, queued.text
    version_id = queued.json()["id"]
    assert admin.send("POST", "/versions").status_code == 409
    seen: list[int] = []
    while (version := admin.get(f"/versions/{version_id}"))["status"] not in ("ready", "failed"):
        seen.append(version["progress"])
        assert stack.say("e2e-training-during", "hello"), "the bot answers while a model trains"
        assert time.monotonic() - started < 600, version
        time.sleep(1)
    elapsed = time.monotonic() - started
    assert version["status"] == "ready", (version["error"], version["log_tail"])
    assert seen == sorted(seen) and any(0 < p < 100 for p in seen), seen
    assert "Your Rasa model is trained and saved" in version["log_tail"]
    model = Path(version["model_file"])
    assert model.parent == models and model.is_file()
    print(f"\nretrain: trained in {version['train_seconds']} s, ready after {elapsed:.0f} s")

    # ---- Both models' held-out scores, per locale and intent ----
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
    current = admin.get(f"/versions/{current_id}")

    # ---- Activate: the running Rasa hot-swaps while a debtor keeps talking ----
    chatter = Chatter(stack)
    chatter.start()
    try:
        time.sleep(1)
        activated = admin.send("POST", f"/versions/{version_id}/activate")
        time.sleep(1)
    finally:
        chatter.stop.set()
        chatter.join(timeout=120)
    assert activated.status_code == 200, activated.text
    assert chatter.failures == [] and chatter.turns > 2, (chatter.failures, chatter.turns)
    assert rasa_status(stack)["model_file"] == model.name
    assert parse(stack, text) == "check_balance"
    assert stack.say("e2e-training-after", "what do I owe?")
    assert (models / "active.tar.gz").resolve() == model.resolve()
    listing = admin.get("/versions")
    assert listing["active_id"] == version_id and listing["untrained_changes"] == 0

    # ---- Re-activate the earlier model ----
    again = admin.send("POST", f"/versions/{current_id}/activate")
    assert again.status_code == 200, again.text
    assert rasa_status(stack)["model_file"] == Path(current["model_file"]).name
    assert admin.get("/versions")["active_id"] == current_id
    assert (models / "active.tar.gz").resolve() == Path(current["model_file"]).resolve()
    assert stack.say("e2e-training-restored", "hello")
    restore["done"] = True
