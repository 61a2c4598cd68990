"""Console login over HTTP: cookie flags, 401/403/CSRF refusals, logout, staff management."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from people.auth import service
from people.auth import views as auth_views
from people.auth.deps import AdminWriteDep, StaffDep, StaffWriteDep
from people.auth.models import Role

PASSWORD = "correct horse battery"
BASE = "http://gateway.test"


def build_app(sessionmaker: async_sessionmaker[AsyncSession], public_base_url: str = BASE) -> FastAPI:
    """The auth router plus three probe routes, on the test database (per-test rollback)."""
    app = FastAPI()
    app.state.sessionmaker = sessionmaker
    app.state.settings = GatewaySettings(database_url="sqlite+aiosqlite://", public_base_url=public_base_url)
    app.include_router(auth_views.router)

    @app.get("/agent/api/probe")
    async def probe(user: StaffDep) -> dict:
        return {"id": user.id}

    @app.post("/agent/api/probe")
    async def probe_write(user: StaffWriteDep) -> dict:
        return {"id": user.id}

    @app.post("/agent/api/admin-probe")
    async def admin_probe(user: AdminWriteDep) -> dict:
        return {"id": user.id}

    return app


@pytest.fixture(autouse=True)
def fresh_lockout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "LOCKOUT", service.Lockout())


@pytest.fixture
async def users(session: AsyncSession) -> dict[str, int]:
    ids = {}
    for name, role in (("admin", Role.ADMIN), ("agent", Role.AGENT)):
        user = await service.create_user(
            session=session, username=f"{name}@example.org", password=PASSWORD, display_name=name.title(), role=role
        )
        ids[name] = user.id
    await session.commit()
    return ids


ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def clients(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[ClientFactory]:
    """Independent browsers (cookie jars) on one app."""
    made: list[httpx.AsyncClient] = []

    def make(public_base_url: str = BASE) -> httpx.AsyncClient:
        app = build_app(sessionmaker, public_base_url)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/agent/api/login", json={"username": f"{name}@example.org", "password": password})


async def logged_in(clients: ClientFactory, name: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
    client = clients()
    reply = await login(client, name)
    assert reply.status_code == 200, reply.text
    return client, {"X-CSRF-Token": reply.json()["csrf_token"]}


async def test_login_sets_an_httponly_strict_cookie(clients: ClientFactory, users: dict[str, int]) -> None:
    client = clients()
    reply = await login(client, "Agent")
    assert reply.status_code == 200
    body = reply.json()
    assert body["user"] == {
        "id": users["agent"],
        "username": "agent@example.org",
        "display_name": "Agent",
        "role": "agent",
        "locale": None,  # no page language chosen yet: the browser's
    }
    cookie = reply.headers["set-cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert cookie.startswith("da_staff=") and {"httponly", "samesite=strict", "path=/agent", "max-age=43200"} <= flags
    assert "secure" not in flags  # plain http locally; see the https test
    me = await client.get("/agent/api/me")
    assert me.status_code == 200 and me.json() == body


async def test_the_cookie_is_secure_behind_https(clients: ClientFactory, users: dict[str, int]) -> None:
    reply = await login(clients("https://collect.example.org"), "agent")
    assert reply.status_code == 200 and "secure" in {p.strip().lower() for p in reply.headers["set-cookie"].split(";")}


@pytest.mark.parametrize(("username", "password"), [("agent", "wrong password"), ("nobody", PASSWORD)])
async def test_bad_credentials_are_401_without_a_cookie(
    clients: ClientFactory, users: dict[str, int], username: str, password: str
) -> None:
    client = clients()
    reply = await login(client, username, password)
    assert (reply.status_code, reply.json()) == (401, {"detail": "invalid_credentials"})
    assert "set-cookie" not in reply.headers and (await client.get("/agent/api/me")).status_code == 401


async def test_a_deactivated_user_cannot_log_in(
    clients: ClientFactory, users: dict[str, int], session: AsyncSession
) -> None:
    await service.deactivate(session=session, user_id=users["agent"])
    await session.commit()
    assert (await login(clients(), "agent")).status_code == 401


async def test_five_failures_lock_the_login(clients: ClientFactory, users: dict[str, int]) -> None:
    client = clients()
    for _ in range(5):
        assert (await login(client, "agent", "wrong password")).status_code == 401
    reply = await login(client, "agent")
    assert (reply.status_code, reply.json()) == (429, {"detail": "locked"})
    assert (await login(client, "admin")).status_code == 200  # other accounts are not affected


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"username": "agent@example.org", "password": PASSWORD}},  # an HTML form
        {"content": b'{"username": "agent@example.org", "password": "correct horse battery"}',
         "headers": {"Content-Type": "text/plain"}},  # fetch(no-cors) / sendBeacon
        {"content": b'{"username": "agent@example.org", "password": "correct horse battery"}'},  # no type at all
    ],
)  # fmt: skip
async def test_login_only_accepts_json(clients: ClientFactory, users: dict[str, int], request_kwargs: dict) -> None:
    reply = await clients().post("/agent/api/login", **request_kwargs)
    assert (reply.status_code, reply.json()) == (415, {"detail": "unsupported_media_type"})
    assert "set-cookie" not in reply.headers


async def test_login_input_is_validated(clients: ClientFactory, users: dict[str, int]) -> None:
    client = clients()
    too_long = {"username": "a" * 300 + "@example.org", "password": PASSWORD}
    assert (await client.post("/agent/api/login", json=too_long)).status_code == 422
    assert (await client.post("/agent/api/login", json={"username": "agent@example.org"})).status_code == 422
    assert (await client.post("/agent/api/login", json=["not", "an", "object"])).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/agent/api/me"),
        ("GET", "/agent/api/staff"),
        ("GET", "/agent/api/probe"),
        ("POST", "/agent/api/logout"),
        ("POST", "/agent/api/staff"),
        ("POST", "/agent/api/staff/1/deactivate"),
        ("POST", "/agent/api/probe"),
        ("POST", "/agent/api/admin-probe"),
    ],
)
async def test_anonymous_requests_are_401_before_any_csrf_check(
    clients: ClientFactory, users: dict[str, int], method: str, path: str
) -> None:
    client = clients()
    reply = await client.request(method, path, json={})
    assert (reply.status_code, reply.json()) == (401, {"detail": "not_authenticated"})
    forged = await client.request(method, path, json={}, headers={"Cookie": "da_staff=forged-token"})
    assert (forged.status_code, forged.json()) == (401, {"detail": "not_authenticated"})


async def test_agents_are_403_on_admin_routes(clients: ClientFactory, users: dict[str, int]) -> None:
    client, csrf = await logged_in(clients, "agent")
    new = {"username": "new@example.org", "password": PASSWORD, "display_name": "New"}
    for reply in (
        await client.get("/agent/api/staff"),
        await client.post("/agent/api/staff", json=new, headers=csrf),
        await client.post("/agent/api/staff", json=new),  # the role is refused before the CSRF check
        await client.post(f"/agent/api/staff/{users['admin']}/deactivate", headers=csrf),
        await client.post("/agent/api/admin-probe", headers=csrf),
    ):
        assert (reply.status_code, reply.json()) == (403, {"detail": "forbidden"})
    assert (await client.get("/agent/api/probe")).json() == {"id": users["agent"]}


async def test_writes_need_the_sessions_csrf_token(clients: ClientFactory, users: dict[str, int]) -> None:
    agent, csrf = await logged_in(clients, "agent")
    admin, admin_csrf = await logged_in(clients, "admin")
    new = {"username": "new@example.org", "password": PASSWORD, "display_name": "New"}
    for client, path, body in ((agent, "/agent/api/probe", None), (admin, "/agent/api/staff", new)):
        sent: list[list[tuple[bytes, bytes]]] = [[], [(b"X-CSRF-Token", b"wrong")], [(b"X-CSRF-Token", b"")]]
        sent.append([(b"X-CSRF-Token", "é".encode() * 43)])  # not ASCII: still a 403, not a 500
        for headers in sent:
            reply = await client.post(path, json=body, headers=headers)
            assert (reply.status_code, reply.json()) == (403, {"detail": "csrf"})
    stolen = await agent.post("/agent/api/probe", headers=admin_csrf)  # another session's token is no good either
    assert (stolen.status_code, stolen.json()) == (403, {"detail": "csrf"})
    assert (await agent.post("/agent/api/probe", headers=csrf)).json() == {"id": users["agent"]}
    assert (await admin.post("/agent/api/staff", json=new, headers=admin_csrf)).status_code == 201


async def test_logout_ends_the_session(clients: ClientFactory, users: dict[str, int]) -> None:
    client, csrf = await logged_in(clients, "agent")
    token = client.cookies["da_staff"]
    assert (await client.post("/agent/api/logout")).json() == {"detail": "csrf"}
    reply = await client.post("/agent/api/logout", headers=csrf)
    assert reply.status_code == 204
    cookie = reply.headers["set-cookie"].lower()
    assert cookie.startswith('da_staff=""') and "max-age=0" in cookie and "path=/agent" in cookie
    replay = clients()  # the old cookie, sent again by hand, is dead on the server too
    assert (await replay.get("/agent/api/me", headers={"Cookie": f"da_staff={token}"})).status_code == 401
    assert (await client.get("/agent/api/me")).status_code == 401


async def test_admins_manage_staff(clients: ClientFactory, users: dict[str, int]) -> None:
    admin, csrf = await logged_in(clients, "admin")
    agent, _ = await logged_in(clients, "agent")

    listed = (await admin.get("/agent/api/staff")).json()["items"]
    assert [(u["username"], u["role"], u["active"]) for u in listed] == [
        ("admin@example.org", "admin", True),
        ("agent@example.org", "agent", True),
    ]
    assert listed[0]["last_seen_at"] is not None  # logging in counts as being seen

    new = {"username": " Carla@Example.org", "password": PASSWORD, "display_name": "Carla", "role": "admin"}
    created = await admin.post("/agent/api/staff", json=new, headers=csrf)
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("username", "role", "active")} == {
        "username": "carla@example.org",
        "role": "admin",
        "active": True,
    }
    duplicate = await admin.post("/agent/api/staff", json=new, headers=csrf)
    assert (duplicate.status_code, duplicate.json()) == (409, {"detail": "username_taken"})
    weak = await admin.post(
        "/agent/api/staff", json={**new, "username": "dan@example.org", "password": "short"}, headers=csrf
    )
    assert (weak.status_code, weak.json()) == (422, {"detail": "weak_password"})
    for password, code in (
        ("Password2025!", "password_too_common"),
        ("dan@example.org 123", "password_contains_username"),
    ):
        refused = await admin.post(
            "/agent/api/staff", json={**new, "username": "dan@example.org", "password": password}, headers=csrf
        )
        assert (refused.status_code, refused.json()) == (422, {"detail": code})
    bad_role = await admin.post(
        "/agent/api/staff", json={**new, "username": "eve@example.org", "role": "root"}, headers=csrf
    )
    assert bad_role.status_code == 422

    gone = await admin.post(f"/agent/api/staff/{users['agent']}/deactivate", headers=csrf)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert (await agent.get("/agent/api/me")).status_code == 401  # logged out at once
    assert (await login(clients(), "agent")).status_code == 401

    missing = await admin.post("/agent/api/staff/999999/deactivate", headers=csrf)
    assert (missing.status_code, missing.json()) == (404, {"detail": "not_found"})
    assert (await admin.post("/agent/api/staff/99999999999/deactivate", headers=csrf)).status_code == 422
    assert (await admin.post("/agent/api/staff/0/deactivate", headers=csrf)).status_code == 422


async def test_the_last_admin_cannot_be_deactivated(clients: ClientFactory, users: dict[str, int]) -> None:
    admin, csrf = await logged_in(clients, "admin")
    reply = await admin.post(f"/agent/api/staff/{users['admin']}/deactivate", headers=csrf)
    assert (reply.status_code, reply.json()) == (409, {"detail": "last_admin"})
