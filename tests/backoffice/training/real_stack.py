"""Helpers for the real retrain cycle on the shared stack (test_intents_browser.py): the admin API
as a client, Rasa's own view of its model, and a debtor who keeps talking during a model swap."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.stack import Stack

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
    """The training API as an admin's client (logged in beside the admin's browser session)."""

    def __init__(self, stack: Stack, username: str, password: str) -> None:
        self.http = httpx.Client(base_url=stack.gateway_url, timeout=200)
        login = self.http.post("/agent/api/login", json={"username": username, "password": password})
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
    return httpx.get(url, params=stack.rasa_auth, timeout=30).json()


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

    def wait_for(self, turns: int, timeout: float = 120) -> None:
        """Until `turns` turns were taken (answered or failed): a swap in between is covered."""
        deadline = time.monotonic() + timeout
        while self.turns < turns and not self.failures:
            assert time.monotonic() < deadline, f"{self.turns} turns after {timeout} s"
            time.sleep(0.05)
