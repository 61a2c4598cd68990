"""The admin API on the real app: rules per locale, run the planner, list with reasons, one
debtor's history; CSRF on the write; bad input is a clear 4xx, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from tests.money.reminders.conftest import make_debtor
from tests.stack import free_port

PASSWORD = "a long enough password"
BASE = "/agent/api/admin/reminders"


class Admin:
    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        client.cookies.clear()
        login = client.post("/agent/api/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        self.csrf = login.json()["csrf_token"]

    def get(self, path: str = "", **params: Any) -> Any:
        response = self.client.get(BASE + path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    folder: Path = tmp_path_factory.mktemp("reminders-api")
    url = f"sqlite+aiosqlite:///{folder / 'api.db'}"
    migrate(url)
    made: dict[str, Any] = {}

    async def setup() -> None:
        engine = make_engine(url)
        async with AsyncSession(engine) as session:
            for name, role in (("admin", Role.ADMIN), ("agent", Role.AGENT)):
                await auth_service.create_user(
                    session=session, username=f"{name}@example.org", password=PASSWORD, display_name=name, role=role
                )
            debtor, debt = await make_debtor(session, due=datetime.now(UTC).date() + timedelta(days=1), timezone="UTC")
            made.update(debtor_id=debtor.id, reference=debtor.reference, debt_id=debt.id)
            await session.commit()
        await engine.dispose()

    asyncio.run(setup())
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        yield client, made


def test_rules_per_jurisdiction(app: tuple[TestClient, dict[str, Any]]) -> None:
    config = Admin(app[0], "admin@example.org").get("/config")
    assert set(config["countries"]) == {"GB", "SE", "DE", "BR"}
    assert config["countries"]["GB"]["hours"]["mon"] == ["08:00", "21:00"]
    assert config["countries"]["GB"]["closed_days"] == ["sun"]
    assert config["countries"]["BR"]["hours"]["sat"] == ["08:00", "14:00"]
    assert {"max": 1, "hours": 24.0} in config["countries"]["DE"]["caps"]
    # The coming year's public holidays from the holidays package: Christmas Day is one everywhere.
    for rules in config["countries"].values():
        assert any(day.endswith("-12-25") for day in rules["holidays"]), rules["holidays"]
    assert config["kinds"] == ["due_soon", "installment_due", "promise_due", "promise_broken"]


def test_run_planner_then_list_and_history(app: tuple[TestClient, dict[str, Any]]) -> None:
    client, made = app
    admin = Admin(client, "admin@example.org")
    assert client.post(BASE + "/plan").json() == {"detail": "csrf"}
    planned = client.post(BASE + "/plan", headers={"X-CSRF-Token": admin.csrf})
    assert planned.status_code == 200 and planned.json()["considered"] >= 1
    again = client.post(BASE + "/plan", headers={"X-CSRF-Token": admin.csrf}).json()
    assert again["created"] == 0  # planted once, however often it runs

    listed = admin.get("", reference=made["reference"].lower())
    [item] = listed["items"]
    assert (item["kind"], item["debt_id"], item["text_key"]) == ("due_soon", made["debt_id"], "utter_reminder_due_soon")
    # No provider channel in this app: planned, waiting (not skipped for it).
    assert (item["status"], item["skip_reason"]) == ("scheduled", None), item
    assert item["debtor"]["reference"] == made["reference"] and item["scheduled_for_local"].endswith("UTC")
    assert listed["counts"]["scheduled"] >= 1
    assert admin.get("", status="sent", reference=made["reference"])["items"] == []

    history = admin.get(f"/debtors/{made['debtor_id']}")
    assert history["debtor"]["reference"] == made["reference"]
    assert [i["id"] for i in history["items"]] == [item["id"]]


def test_agents_are_refused(app: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = app
    agent = Admin(client, "agent@example.org")
    assert client.get(BASE).status_code == 403
    assert client.post(BASE + "/plan", headers={"X-CSRF-Token": agent.csrf}).status_code == 403
    client.cookies.clear()
    assert client.get(BASE + "/config").status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("", {"status": "bogus"}, 422),
        ("", {"kind": "nagging"}, 422),
        ("", {"limit": 0}, 422),
        ("", {"limit": 100000}, 422),
        ("", {"offset": -1}, 422),
        ("", {"reference": "X" * 40}, 422),
        ("", {"debtor_id": "abc"}, 422),
        ("/debtors/0", {}, 422),
        ("/debtors/abc", {}, 422),
        ("/debtors/99999999999", {}, 422),
        ("/debtors/987654", {}, 404),
    ],
)
def test_bad_input_is_a_clear_4xx(
    app: tuple[TestClient, dict[str, Any]], path: str, params: dict[str, Any], status: int
) -> None:
    client, _ = app
    Admin(client, "admin@example.org")
    response = client.get(BASE + path, params=params)
    assert response.status_code == status, response.text
