"""/docs, /redoc and /openapi.json (issue 14 point 7): anyone may read them only when
ASSISTANT_ENV=demo; otherwise logged-in staff only (under /agent, where their cookie goes, or
with the cookie sent), and a 404 for everyone else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from core.database import make_engine, make_sessionmaker
from people.auth import service as auth_service
from people.auth.models import Role
from tests.stack import free_port

PASSWORD = "a long enough password"
PUBLIC = ("/docs", "/redoc", "/openapi.json")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('docs') / 'docs.db'}"
    migrate(url)
    return url


def client_for(url: str, environment: str | None) -> Iterator[TestClient]:
    dead = f"http://127.0.0.1:{free_port()}"
    values = {"assistant_env": environment} if environment else {}
    settings = GatewaySettings(
        _env_file=None, database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5, **values
    )  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def production(database: str) -> Iterator[TestClient]:
    yield from client_for(database, None)  # the default: not a demo


@pytest.fixture
def demo(database: str) -> Iterator[TestClient]:
    yield from client_for(database, "demo")


async def _agent(url: str) -> str:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            user = await auth_service.create_user(
                session=session, username=f"docs-{uuid.uuid4().hex[:6]}@example.org", password=PASSWORD,
                display_name="Docs", role=Role.AGENT,
            )  # fmt: skip
            await session.commit()
            return user.username
    finally:
        await engine.dispose()


def test_the_default_environment_is_not_a_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ASSISTANT_ENV", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert GatewaySettings().assistant_env == "production"
    monkeypatch.setenv("ASSISTANT_ENV", "demo")
    assert GatewaySettings().assistant_env == "demo"


def test_anonymous_users_get_no_docs_outside_a_demo(production: TestClient) -> None:
    for path in PUBLIC:
        response = production.get(path)
        assert response.status_code == 404, path
        assert "openapi" not in response.text.lower() and "/webchat/messages" not in response.text
    assert production.get("/agent/docs").status_code == 401
    assert production.get("/agent/openapi.json").status_code == 401


async def test_staff_read_the_docs_always(production: TestClient, database: str) -> None:
    username = await _agent(database)
    login = production.post("/agent/api/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200
    schema = production.get("/agent/openapi.json")
    assert schema.status_code == 200 and "/webchat/messages" in schema.json()["paths"]
    page = production.get("/agent/docs")
    assert page.status_code == 200 and "/agent/openapi.json" in page.text
    cookie = production.cookies.get("da_staff")
    assert cookie  # an API client sending the console cookie to /openapi.json itself
    for path in PUBLIC:
        assert production.get(path, headers={"Cookie": f"da_staff={cookie}"}).status_code == 200, path
    production.cookies.clear()
    assert production.get("/openapi.json", headers={"Cookie": "da_staff=forged"}).status_code == 404


def test_a_demo_shows_the_docs_to_anyone(demo: TestClient) -> None:
    assert "/webchat/messages" in demo.get("/openapi.json").json()["paths"]
    assert demo.get("/docs").status_code == 200 and demo.get("/redoc").status_code == 200
    assert demo.get("/agent/openapi.json").status_code == 401  # the staff copy stays staff-only
