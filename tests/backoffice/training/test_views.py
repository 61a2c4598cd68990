"""The admin API with a stand-in `rasa` (tests/training/fake_rasa.py) and a stand-in Rasa server:
examples, the whole retrain -> evaluate -> compare -> activate -> re-activate cycle, a failing
training, Rasa refusing a model; bad input is a clear 4xx, never a 500. The real Rasa cycle is
tests/backoffice/training/test_intents_browser.py."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from backoffice.training import activation, data
from backoffice.training.service import TrainingError
from core.database import make_engine
from people.auth import service as auth_service
from people.auth.models import Role
from tests.stack import free_port

PASSWORD = "a long enough password"
BASE = "/agent/api/admin/training"
FAKE = Path(__file__).resolve().parent / "fake_rasa.py"


class RasaServer:
    """Rasa's model endpoints: PUT /model loads a file (checked to exist), GET /status names it."""

    def __init__(self) -> None:
        self.loaded: str | None = "debtor.tar.gz"
        self.refuse = False
        self.puts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps({"model_file": server.loaded}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self) -> None:
                path = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["model_file"]
                server.puts.append(path)
                ok = not server.refuse and Path(path).is_absolute() and Path(path).is_file()
                if ok:
                    server.loaded = Path(path).name
                self.send_response(204 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


class Admin:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        client.cookies.clear()
        login = client.post("/agent/api/login", json={"username": "admin@example.org", "password": PASSWORD})
        assert login.status_code == 200, login.text
        self.csrf = login.json()["csrf_token"]

    def get(self, path: str) -> Any:
        response = self.client.get(BASE + path)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.request(method, BASE + path, json=body, headers={"X-CSRF-Token": self.csrf})

    def wait(self, version_id: int, done: tuple[str, ...] = ("ready", "failed"), timeout: float = 120) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            version = self.get(f"/versions/{version_id}")
            if version["status"] in done:
                return version
            time.sleep(0.2)
        raise AssertionError(f"version {version_id} still {version['status']} ({version['log_tail']})")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Admin, RasaServer, Path]]:
    yield from _world(tmp_path_factory.mktemp("training-api"))


@pytest.fixture
def fresh_world(tmp_path: Path) -> Iterator[tuple[Admin, RasaServer, Path]]:
    """A world no other test trained in yet (the module's `world` may have, in any order)."""
    yield from _world(tmp_path)


def _world(folder: Path) -> Iterator[tuple[Admin, RasaServer, Path]]:
    url = f"sqlite+aiosqlite:///{folder / 'api.db'}"
    migrate(url)

    async def users() -> None:
        engine = make_engine(url)
        async with AsyncSession(engine) as session:
            await auth_service.create_user(
                session=session, username="admin@example.org", password=PASSWORD, display_name="Ada", role=Role.ADMIN
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(users())
    rasa_bin = folder / "rasa"
    rasa_bin.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    rasa_bin.chmod(rasa_bin.stat().st_mode | stat.S_IEXEC)
    initial = folder / "debtor.tar.gz"
    initial.write_bytes(b"repository model")
    rasa = RasaServer()
    settings = GatewaySettings(
        database_url=url, rasa_url=rasa.url, action_server_url=f"http://127.0.0.1:{free_port()}",
        health_timeout_seconds=0.5, training_models_dir=folder / "models", rasa_bin=rasa_bin,
        training_initial_model=initial,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield Admin(client), rasa, folder
    rasa.http.shutdown()


def test_examples_are_listed_added_edited_and_deleted(world: tuple[Admin, RasaServer, Path]) -> None:
    admin, _, _ = world
    listing = admin.get("/examples?locale=sv")
    assert listing["locale"] == "sv" and listing["locales"] == ["en", "sv", "de", "pt-BR"]
    greet = next(i for i in listing["intents"] if i["name"] == "greet")
    assert greet["count"] == len(data.repository_examples("sv")["greet"]) == len(greet["examples"])
    assert greet["examples"][0] == {
        "intent": "greet", "text": data.repository_examples("sv")["greet"][0], "source": "repository",
        "change": None, "changed_by": None, "changed_at": None,
    }  # fmt: skip

    body = {"locale": "sv", "intent": "greet", "text": "tjena tjena, är det inkasso?"}
    added = admin.send("POST", "/examples", body)
    assert added.status_code == 201, added.text
    assert added.json()["source"] == "admin" and added.json()["changed_by"]["display_name"] == "Ada"
    assert added.json()["change"] == "add"
    greet = next(i for i in admin.get("/examples?locale=sv")["intents"] if i["name"] == "greet")
    assert greet["examples"][-1]["text"] == body["text"] and greet["count"] == len(greet["examples"])

    edited = admin.send("PUT", "/examples", {**body, "new_text": "tjena, är det inkassobolaget?"})
    assert edited.status_code == 200 and edited.json()["text"] == "tjena, är det inkassobolaget?"
    assert edited.json()["change"] == "edit"
    deleted = admin.send("DELETE", "/examples", {**body, "text": "tjena, är det inkassobolaget?"})
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    texts = [e["text"] for i in admin.get("/examples?locale=sv")["intents"] for e in i["examples"]]
    assert body["text"] not in texts and "tjena, är det inkassobolaget?" not in texts


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        ("GET", "/examples?locale=xx", None, 404, "unknown_locale"),
        ("POST", "/examples", {"locale": "en", "intent": "greet", "text": "hello there"}, 422, "heldout_example"),
        ("POST", "/examples", {"locale": "en", "intent": "greet", "text": "HELLO"}, 409, "duplicate_example"),
        ("POST", "/examples", {"locale": "en", "intent": "nope", "text": "hi you"}, 422, "unknown_intent"),
        ("POST", "/examples", {"locale": "en", "intent": "greet", "text": "y" * 301}, 422, "example_too_long"),
        ("POST", "/examples", {"locale": "en", "intent": "greet"}, 422, None),
        ("POST", "/examples", {"locale": "en", "intent": "greet", "text": "x" * 5000}, 422, None),
        (
            "PUT",
            "/examples",
            {"locale": "en", "intent": "greet", "text": "nope", "new_text": "x y"},
            404,
            "example_not_found",
        ),
        ("DELETE", "/examples", {"locale": "en", "intent": "greet", "text": "nope"}, 404, "example_not_found"),
        ("GET", "/versions/999999", None, 404, "version_not_found"),
        ("GET", "/versions/0", None, 422, None),
        ("GET", "/versions/999999/comparison", None, 404, "version_not_found"),
        ("POST", "/versions/999999/activate", None, 404, "version_not_found"),
        ("POST", "/versions/abc/activate", None, 422, None),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    world: tuple[Admin, RasaServer, Path], method: str, path: str, body: Any, status: int, detail: str | None
) -> None:
    admin, _, _ = world
    response = admin.send(method, path, body)
    assert response.status_code == status, response.text
    if detail:
        assert response.json() == {"detail": detail}


def test_retrain_evaluate_compare_activate_and_reactivate(
    fresh_world: tuple[Admin, RasaServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, rasa, folder = fresh_world
    assert admin.get("/versions")["versions"] == []
    before = admin.get("/versions")["untrained_changes"]
    example = {"locale": "en", "intent": "check_balance", "text": "how much is left on the account now"}
    assert admin.send("POST", "/examples", example).status_code == 201
    gate, dump = folder / "gate", folder / "workspace"
    gate.touch()
    monkeypatch.setenv("FAKE_RASA_GATE", str(gate))
    monkeypatch.setenv("FAKE_RASA_DUMP", str(dump))

    queued = admin.send("POST", "/versions")
    assert queued.status_code == 202, queued.text
    new = queued.json()
    assert (new["status"], new["progress"], new["created_by"]["display_name"]) == ("queued", 0, "Ada")
    assert admin.send("POST", "/versions").json() == {"detail": "training_running"}
    assert admin.send("POST", "/versions").status_code == 409

    # While `rasa train` runs, progress comes from its log lines and the API stays responsive.
    deadline = time.monotonic() + 30
    while (running := admin.get(f"/versions/{new['id']}"))["progress"] < 53 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (running["status"], running["phase"], running["progress"]) == ("training", "training", 53), running
    assert "Finished training component 'TfidfIntentClassifier'" in running["log_tail"]
    assert "Processed rules: 100%" in running["log_tail"] and "50%" not in running["log_tail"]
    started = time.monotonic()
    listing = admin.get("/versions")
    assert time.monotonic() - started < 1
    assert listing["running_id"] == new["id"]
    [repository] = [v for v in listing["versions"] if v["from_repository"]]
    assert repository["status"] == "active" and listing["active_id"] == repository["id"]

    # The workspace Rasa trains in: the repository's files plus the admin's example.
    en = (dump / "nlu" / "en.yml").read_text(encoding="utf-8")
    assert f"    - {example['text']}\n" in en
    assert (dump / "config.yml").read_text() == (data.BOT_DIR / "config.yml").read_text()
    assert (dump / "domain" / "core.yml").is_file() and (dump / "data" / "rules.yml").is_file()

    gate.unlink()
    ready = admin.wait(new["id"])
    assert ready["status"] == "ready", (ready["error"], ready["log_tail"])
    assert ready["progress"] == 100 and ready["train_seconds"] > 0 and ready["error"] is None
    assert ready["examples"]["en"] == sum(map(len, data.repository_examples("en").values())) + 1
    assert set(ready["metrics"]) == {"en", "sv", "de", "pt-BR"}
    assert ready["metrics"]["en"]["intents"]["greet"]["f1"] == 1.0
    assert Path(ready["model_file"]).is_file() and Path(ready["model_file"]).parent == folder / "models"

    comparison = admin.get(f"/versions/{new['id']}/comparison")
    assert comparison["active_id"] == repository["id"] and comparison["current_evaluated"]
    for locale in ("en", "sv", "de", "pt-BR"):
        local = comparison["locales"][locale]
        greet = next(r for r in local["intents"] if r["intent"] == "greet")
        assert (greet["current"]["f1"], greet["candidate"]["f1"], greet["delta_f1"]) == (0.0, 1.0, 1.0)
        assert local["current"]["macro_f1"] < local["candidate"]["macro_f1"] == 1.0
        assert {"gold": "greet", "predicted": "goodbye", "count": 10} in local["confusions"]["current"]
        assert local["confusions"]["candidate"] == []
    assert admin.get("/versions")["untrained_changes"] == before + 1

    # Activate: Rasa is asked to load the file, then it is recorded and persisted for restarts.
    activated = admin.send("POST", f"/versions/{new['id']}/activate")
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active" and activated.json()["activated_by"]["display_name"] == "Ada"
    assert rasa.loaded == Path(ready["model_file"]).name and rasa.puts[-1] == ready["model_file"]
    link = folder / "models" / "active.tar.gz"
    assert link.resolve() == Path(ready["model_file"]).resolve()
    listing = admin.get("/versions")
    assert listing["active_id"] == new["id"] and listing["untrained_changes"] == 0
    assert next(v for v in listing["versions"] if v["id"] == repository["id"])["status"] == "ready"

    # Re-activate the earlier model the same way.
    again = admin.send("POST", f"/versions/{repository['id']}/activate")
    assert again.status_code == 200 and again.json()["status"] == "active"
    assert rasa.loaded == Path(admin.get(f"/versions/{repository['id']}")["model_file"]).name
    assert link.resolve().name == rasa.loaded
    assert admin.get("/versions")["active_id"] == repository["id"]

    # Rasa refusing a model changes nothing.
    rasa.refuse = True
    try:
        refused = admin.send("POST", f"/versions/{new['id']}/activate")
    finally:
        rasa.refuse = False
    assert (refused.status_code, refused.json()) == (502, {"detail": "model_load_failed"})
    assert admin.get("/versions")["active_id"] == repository["id"] and link.resolve().name == rasa.loaded


def test_a_failing_training_is_reported_and_does_not_block_the_next(
    world: tuple[Admin, RasaServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, _, _ = world
    monkeypatch.setenv("FAKE_RASA_FAIL", "1")
    for _ in range(2):
        queued = admin.send("POST", "/versions")
        assert queued.status_code == 202, queued.text
        failed = admin.wait(queued.json()["id"])
        assert (failed["status"], failed["error"], failed["model_file"]) == (
            "failed",
            "rasa train failed (exit 3)",
            None,
        )
        assert "boom: the training exploded" in failed["log_tail"] and "\x1b" not in failed["log_tail"]
        assert admin.get("/versions")["running_id"] is None
    assert admin.send("GET", f"/versions/{queued.json()['id']}/comparison").json() == {"detail": "not_evaluated"}
    assert admin.send("POST", f"/versions/{queued.json()['id']}/activate").json() == {"detail": "version_not_ready"}


def test_without_rasa_next_to_the_gateway_training_is_unavailable(world: tuple[Admin, RasaServer, Path]) -> None:
    admin, _, folder = world
    rasa_bin = folder / "rasa"
    rasa_bin.rename(folder / "rasa.away")
    try:
        response = admin.send("POST", "/versions")
    finally:
        (folder / "rasa.away").rename(rasa_bin)
    assert (response.status_code, response.json()) == (503, {"detail": "training_unavailable"})
    assert admin.get("/versions")["running_id"] is None


async def test_an_unreachable_rasa_is_a_503() -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        with pytest.raises(TrainingError) as refused:
            await activation.load_model(http=http, rasa_url=f"http://127.0.0.1:{free_port()}", model=Path(os.devnull))
    assert (refused.value.code, refused.value.status) == ("rasa_unavailable", 503)
