"""The real gateway app on a migrated SQLite file with an admin and an agent, for the portfolio
API tests (import upload, activity download); `more` adds the data a test module needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from core.database import make_engine
from people.auth import service as auth_service
from people.auth.models import Role
from tests.stack import free_port

PASSWORD = "a long enough password"


@contextmanager
def gateway_with_staff(
    folder: Path, more: Callable[[AsyncSession], Awaitable[None]] | None = None
) -> Iterator[TestClient]:
    url = f"sqlite+aiosqlite:///{folder / 'api.db'}"
    migrate(url)

    async def data() -> None:
        engine = make_engine(url)
        async with AsyncSession(engine) as session:
            for name, role in (("admin", Role.ADMIN), ("agent", Role.AGENT)):
                await auth_service.create_user(
                    session=session, username=f"{name}@example.org", password=PASSWORD, display_name=name, role=role
                )
            if more is not None:
                await more(session)
            await session.commit()
        await engine.dispose()

    asyncio.run(data())
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        yield client


def login(client: TestClient, name: str) -> str:
    """Log `name` (admin or agent) in on `client`; the session's CSRF token."""
    client.cookies.clear()
    response = client.post("/agent/api/login", json={"username": f"{name}@example.org", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])
