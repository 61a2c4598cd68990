"""The admin API: definitions, lifecycle, results; bad input is a clear 4xx, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from core.database import make_engine
from people.auth import service as auth_service
from people.auth.models import Role
from tests.engine.experiments.conftest import MESSAGE, TEXT_KEYS, TEXTS, write_catalog
from tests.stack import free_port

PASSWORD = "a long enough password"
BASE = "/agent/api/admin/experiments"


class Admin:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        client.cookies.clear()
        login = client.post("/agent/api/login", json={"username": "admin@example.org", "password": PASSWORD})
        assert login.status_code == 200, login.text
        self.csrf = login.json()["csrf_token"]

    def get(self, path: str = "") -> Any:
        response = self.client.get(BASE + path)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str = "", body: Any = None) -> Any:
        return self.client.request(method, BASE + path, json=body, headers={"X-CSRF-Token": self.csrf})


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    folder: Path = tmp_path_factory.mktemp("experiments-api")
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
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        client.app.state.catalog = write_catalog(folder / "locales", TEXTS)  # type: ignore[attr-defined]
        yield Admin(client)


def body(name: str = "First reminder", shares: tuple[int, ...] = (34, 33, 33)) -> dict[str, Any]:
    return {
        "name": name,
        "message_key": MESSAGE,
        "outcome_days": 7,
        "variants": [{"key": k, "text_key": TEXT_KEYS[k], "share": s} for k, s in zip(TEXT_KEYS, shares, strict=False)],
    }


def test_options_offer_the_message_and_its_framings(admin: Admin) -> None:
    options = admin.get("/options")
    [family] = [m for m in options["messages"] if m["key"] == MESSAGE]
    assert [v["key"] for v in family["variants"]] == sorted(TEXT_KEYS.values())
    assert all(v["preview"] for v in family["variants"])
    assert set(options["metrics"]) == {"replied", "verified", "paid", "plan_agreed"}
    assert "utter_needs_iban" in options["texts"]


def test_define_start_read_results_promote(admin: Admin) -> None:
    created = admin.send("POST", "", body())
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert experiment["status"] == "draft" and experiment["assigned"] == 0
    path = f"/{experiment['id']}"

    edited = admin.send("PUT", path, body("First reminder, two arms", (60, 40)))
    assert edited.status_code == 200 and [v["share"] for v in edited.json()["variants"]] == [60, 40]
    assert admin.send("POST", path + "/start").json()["status"] == "running"
    assert admin.send("PUT", path, body()).json() == {"detail": "not_draft"}

    # A second experiment on the same message cannot run at the same time.
    second = admin.send("POST", "", body("Competing")).json()
    refused = admin.send("POST", f"/{second['id']}/start")
    assert (refused.status_code, refused.json()) == (409, {"detail": "already_running"})
    assert admin.send("DELETE", f"/{second['id']}").status_code == 204

    listed = admin.get()["items"]
    assert [e["id"] for e in listed if e["id"] in (experiment["id"], second["id"])] == [experiment["id"]]

    results = admin.get(path + "/results")
    assert results["assigned"] == 0 and results["min_n"] == 30
    assert [m["metric"] for m in results["metrics"]] == ["replied", "verified", "paid", "plan_agreed"]
    for metric in results["metrics"]:
        assert [v["variant"] for v in metric["variants"]] == ["neutral", "loss_aversion"]
        assert all(v["n"] == 0 and v["rate"] is None and v["vs_champion"] is None for v in metric["variants"])

    promoted = admin.send("POST", path + "/promote", {"variant": "loss_aversion"})
    assert promoted.status_code == 200 and promoted.json()["winner"] == "loss_aversion"
    assert promoted.json()["status"] == "promoted"
    assert admin.send("POST", path + "/stop").json()["status"] == "stopped"


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "detail"),
    [
        ("POST", "", {**body(), "variants": body()["variants"][:1]}, 422, None),
        ("POST", "", body(shares=(50, 30, 30)), 422, "shares_must_sum_to_100"),
        ("POST", "", {**body(), "message_key": "utter_nope"}, 422, "unknown_message_key"),
        ("POST", "", {**body(), "outcome_days": 0}, 422, None),
        ("POST", "", {**body(), "name": "  "}, 422, None),
        ("POST", "", {"name": "x"}, 422, None),
        ("POST", "", [1, 2], 422, None),
        ("GET", "/999999", None, 404, "not_found"),
        ("GET", "/999999/results", None, 404, "not_found"),
        ("POST", "/999999/start", None, 404, "not_found"),
        ("POST", "/999999/promote", {"variant": "neutral"}, 404, "not_found"),
        ("POST", "/1/promote", {}, 422, None),
        ("GET", "/0", None, 422, None),
        ("GET", "/not-a-number", None, 422, None),
        ("PUT", "/99999999999", body(), 422, None),
    ],
)
def test_bad_requests_get_a_clear_answer(
    admin: Admin, method: str, path: str, payload: Any, status: int, detail: str | None
) -> None:
    response = admin.send(method, path, payload) if method != "GET" else admin.client.get(BASE + path)
    assert response.status_code == status, response.text
    if detail:
        assert response.json() == {"detail": detail}


def test_promote_refuses_a_draft_and_an_unknown_variant(admin: Admin) -> None:
    draft = admin.send("POST", "", body("Draft only")).json()
    refused = admin.send("POST", f"/{draft['id']}/promote", {"variant": "neutral"})
    assert (refused.status_code, refused.json()) == (409, {"detail": "not_promotable"})
    assert admin.send("DELETE", f"/{draft['id']}").status_code == 204
    other = {
        "name": "A/A",
        "message_key": "utter_other_reminder",
        "variants": [{"key": k, "text_key": "utter_other_reminder", "share": 50} for k in ("a", "b")],
    }
    running = admin.send("POST", "", other).json()
    assert admin.send("POST", f"/{running['id']}/start").status_code == 200
    refused = admin.send("POST", f"/{running['id']}/promote", {"variant": "c"})
    assert (refused.status_code, refused.json()) == (422, {"detail": "unknown_variant"})
    assert admin.send("POST", f"/{running['id']}/stop").status_code == 200
