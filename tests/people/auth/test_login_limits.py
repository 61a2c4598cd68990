"""Console login over HTTP with the abuse limits: per-IP budget (too_many_attempts), the layered
lockout with Retry-After, and an attacker's address not locking the owner's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from people.auth import service
from people.auth import views as auth_views

PASSWORD = "correct horse battery"
BASE = "http://gateway.test"


def build_app(sessionmaker: async_sessionmaker[AsyncSession], **limits: Any) -> FastAPI:
    app = FastAPI()
    app.state.sessionmaker = sessionmaker
    limits.setdefault("rate_limit_strategy", "moving-window")  # exact counts at a minute boundary too
    app.state.settings = GatewaySettings(database_url="sqlite+aiosqlite://", public_base_url=BASE, **limits)
    app.include_router(auth_views.router)
    return app


def from_ip(app: FastAPI, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url=BASE)


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/agent/api/login", json={"username": username, "password": password})


@pytest.fixture
async def owner(session: AsyncSession) -> str:
    user = await service.create_user(
        session=session, username="owner@example.org", password=PASSWORD, display_name="Owner"
    )
    await session.commit()
    return user.username


async def test_one_address_guessing_many_usernames_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str
) -> None:
    app = build_app(sessionmaker, rate_limit_login_ip="4/minute")
    async with from_ip(app, "198.51.100.66") as attacker, from_ip(app, "192.0.2.10") as office:
        for n in range(4):  # a different username each time: no username lock is reached
            assert (await login(attacker, f"user{n}@example.org", "spray spray spray")).status_code == 401
        refused = await login(attacker, owner, PASSWORD)  # refused before the password is checked
        assert (refused.status_code, refused.json()) == (429, {"detail": "too_many_attempts"})
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert (await login(office, owner, PASSWORD)).status_code == 200


async def test_successes_do_not_use_up_the_address_budget(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str
) -> None:
    app = build_app(sessionmaker, rate_limit_login_ip="2/minute")
    async with from_ip(app, "192.0.2.10") as office:
        assert {(await login(office, owner, PASSWORD)).status_code for _ in range(5)} == {200}


async def test_a_locked_pair_says_when_to_retry_and_spares_the_owner(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str
) -> None:
    app = build_app(sessionmaker, login_max_failures=3, login_lock_minutes=10)
    async with from_ip(app, "198.51.100.66") as attacker, from_ip(app, "192.0.2.10") as office:
        for _ in range(3):
            assert (await login(attacker, owner, "guess guess guess")).status_code == 401
        locked = await login(attacker, owner, PASSWORD)
        assert (locked.status_code, locked.json()) == (429, {"detail": "locked"})
        assert 590 <= int(locked.headers["Retry-After"]) <= 600
        assert (await login(office, owner, PASSWORD)).status_code == 200


async def test_many_addresses_lock_the_username_for_everyone(
    sessionmaker: async_sessionmaker[AsyncSession], owner: str
) -> None:
    app = build_app(sessionmaker, login_username_max_failures=4)
    for n in range(4):
        async with from_ip(app, f"203.0.113.{n}") as bot:
            assert (await login(bot, owner, "guess guess guess")).status_code == 401
    async with from_ip(app, "192.0.2.10") as office:
        assert (await login(office, owner, PASSWORD)).status_code == 429
