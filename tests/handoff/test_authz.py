"""Authorization sweep over every console route (issue 5 point 8), found from the app itself so a
new route cannot be forgotten: anonymous -> 401, wrong role -> 403, no CSRF token on a
state-changing request -> 403."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from core.database import make_engine
from people.auth import deps
from people.auth import service as auth_service
from people.auth.models import Role
from tests.stack import free_port

PASSWORD = "a long enough password"
# Public on purpose: the login itself, and the page's own static files (no data in them).
PUBLIC = {("POST", "/agent/api/login")}
PUBLIC_PREFIXES = ("/agent/static",)
STREAMS = {"/agent/api/events"}  # never ends for a logged-in client: only checked anonymously
STAFF_AREAS = ("/agent", "/admin")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _depends_on(dependant: Any, target: Any) -> bool:
    return any(d.call is target or _depends_on(d, target) for d in dependant.dependencies)


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path (FastAPI keeps included routers nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes, prefix + route.include_context.prefix)


def staff_routes(app: Any) -> list[tuple[str, str, APIRoute]]:
    found = []
    for path, route in api_routes(app.routes):
        if not path.startswith(STAFF_AREAS) or path.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(route.methods):
            if (method, path) not in PUBLIC:
                found.append((method, re.sub(r"\{[^}]+\}", "1", path), route))
    return found


@pytest.fixture(scope="module")
def app_and_users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db: Path = tmp_path_factory.mktemp("authz") / "authz.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)

    async def users() -> None:
        engine = make_engine(url)
        async with AsyncSession(engine) as session:
            for name, role in (("agent", Role.AGENT), ("admin", Role.ADMIN)):
                await auth_service.create_user(
                    session=session, username=f"{name}@example.org", password=PASSWORD, display_name=name, role=role
                )
            await session.commit()
        await engine.dispose()

    asyncio.run(users())
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        yield client, {"agent": "agent@example.org", "admin": "admin@example.org"}


def login(client: TestClient, username: str) -> tuple[dict[str, str], str]:
    client.cookies.clear()
    response = client.post("/agent/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies.get(deps.STAFF_COOKIE)
    assert cookie
    return {deps.STAFF_COOKIE: cookie}, response.json()["csrf_token"]


def call(client: TestClient, method: str, path: str, cookies: dict[str, str], headers: dict[str, str]) -> int:
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value, path="/agent")
    body = {} if method in WRITE_METHODS else None
    return client.request(method, path, json=body, headers=headers).status_code


def test_the_sweep_covers_the_console(app_and_users: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = app_and_users
    paths = {path for _, path, _ in staff_routes(client.app)}
    for expected in ("/agent/api/queue", "/agent/api/conversations/1/take", "/agent/api/staff", "/agent/api/events"):
        assert expected in paths


def test_anonymous_requests_are_refused_everywhere(app_and_users: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = app_and_users
    for method, path, _ in staff_routes(client.app):
        assert call(client, method, path, {}, {}) == 401, (method, path)
    # A forged or expired cookie is no better.
    for method, path, _ in staff_routes(client.app):
        assert call(client, method, path, {deps.STAFF_COOKIE: "forged"}, {}) == 401, (method, path)


def test_agents_are_refused_admin_routes(app_and_users: tuple[TestClient, dict[str, str]]) -> None:
    client, users = app_and_users
    cookies, csrf = login(client, users["agent"])
    admin_routes = [
        (m, p) for m, p, r in staff_routes(client.app) if _depends_on(r.dependant, deps._admin) and p not in STREAMS
    ]
    assert admin_routes, "there are admin-only routes"
    for method, path in admin_routes:
        assert call(client, method, path, cookies, {deps.CSRF_HEADER: csrf}) == 403, (method, path)
    admin_cookies, _admin_csrf = login(client, users["admin"])
    assert call(client, "GET", "/agent/api/staff", admin_cookies, {}) == 200


def test_state_changes_need_the_csrf_token(app_and_users: tuple[TestClient, dict[str, str]]) -> None:
    client, users = app_and_users
    for user in ("agent", "admin"):
        cookies, csrf = login(client, users[user])
        writes = [(m, p) for m, p, _ in staff_routes(client.app) if m in WRITE_METHODS]
        assert writes
        for method, path in writes:
            assert call(client, method, path, cookies, {}) == 403, (user, method, path)
            assert call(client, method, path, cookies, {deps.CSRF_HEADER: "wrong" + csrf}) == 403, (user, method, path)
        # With the token, the same request gets past the checks (404/409/422 about the request itself).
        assert call(client, "POST", "/agent/api/conversations/missing/take", cookies, {deps.CSRF_HEADER: csrf}) == 404


def test_session_cookie_is_httponly_and_samesite(app_and_users: tuple[TestClient, dict[str, str]]) -> None:
    client, users = app_and_users
    client.cookies.clear()
    response = client.post("/agent/api/login", json={"username": users["agent"], "password": PASSWORD})
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/agent" in header
