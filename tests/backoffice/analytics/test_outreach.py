"""The dashboard's first-contact funnel over HTTP (SQLite and PostgreSQL): admins only, the days
chosen in the time zone chosen, per cadence step and per text variant, 422 on a bad filter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from backoffice.analytics import views as analytics_views
from money.outreach.models import OutreachCase
from people.auth import service as auth_service
from people.auth import views as auth_views
from people.auth.models import Role
from tests.money.outreach.conftest import make_debtor

PASSWORD = "correct horse battery"
BASE = "http://gateway.test"
API = "/agent/api/admin/analytics/outreach"


@pytest.fixture
async def client(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    for name, role in (("admin", Role.ADMIN), ("agent", Role.AGENT)):
        await auth_service.create_user(
            session=session, username=f"{name}@example.org", password=PASSWORD, display_name=name, role=role
        )
    await session.commit()
    app = FastAPI()
    app.state.sessionmaker = sessionmaker
    app.state.settings = GatewaySettings(database_url="sqlite+aiosqlite://", public_base_url=BASE)
    app.include_router(auth_views.router)
    app.include_router(analytics_views.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as made:
        yield made


async def login(client: httpx.AsyncClient, name: str) -> None:
    reply = await client.post("/agent/api/login", json={"username": f"{name}@example.org", "password": PASSWORD})
    assert reply.status_code == 200, reply.text


async def test_the_funnel_per_step_and_variant(client: httpx.AsyncClient, session: AsyncSession) -> None:
    def at(hour: int, day: int = 3) -> datetime:
        return datetime(2021, 3, day, hour, tzinfo=UTC)

    facts = [  # (variant, last step, reply step, replied, verified, settled)
        ("short", 0, None, None, None, None),
        ("short", 2, 0, at(12), at(13), at(14)),
        ("social_proof", 0, 0, at(12), None, None),
        (None, 1, 1, at(12), at(12), None),
    ]
    for variant, last, reply_step, replied, verified, settled in facts:
        debtor, [debt] = await make_debtor(session)
        session.add(OutreachCase(debt_id=debt.id, debtor_id=debtor.id, country="GB", step=last + 1, started_at=at(9),
                                 contacted_at=at(9), last_step=last, reply_step=reply_step, variant=variant,
                                 replied_at=replied, verified_at=verified, settled_at=settled))  # fmt: skip
    late, [late_debt] = await make_debtor(session)  # contacted the next day: outside the range
    session.add(OutreachCase(debt_id=late_debt.id, debtor_id=late.id, country="GB", step=1, started_at=at(9, 4),
                             contacted_at=at(9, 4), last_step=0))  # fmt: skip
    await session.commit()

    assert (await client.get(API)).status_code == 401
    await login(client, "agent")
    assert (await client.get(API)).status_code == 403
    await login(client, "admin")
    reply = await client.get(API, params={"from": "2021-03-01", "to": "2021-03-03", "tz": "Europe/London"})
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["stages"] == ["contacted", "replied", "verified", "settled"]
    total = found["total"]
    assert (total["contacted"], total["replied"], total["verified"], total["settled"]) == (4, 3, 2, 1)
    assert total["reply_rate"] == 0.75 and total["settle_rate"] == 0.25
    steps = {s["step"]: (s["contacted"], s["replied"], s["verified"], s["settled"]) for s in found["steps"]}
    assert steps == {1: (3, 2, 1, 1), 2: (1, 1, 1, 0)}
    variants = {v["variant"]: (v["contacted"], v["replied"], v["settled"]) for v in found["variants"]}
    assert variants == {"short": (2, 1, 1), "social_proof": (1, 1, 0), "neutral": (1, 1, 0)}
    assert (await client.get(API, params={"tz": "Mars/Base"})).status_code == 422
