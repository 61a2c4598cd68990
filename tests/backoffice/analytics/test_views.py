"""The dashboard API over HTTP (SQLite and PostgreSQL): admins only, JSON metrics, CSV export with
proper quoting and formula protection, 422 on every invalid filter."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from backoffice.analytics import views as analytics_views
from backoffice.analytics.metrics import NUMBERS
from engine.experiments.models import Experiment, ExperimentAssignment
from people.auth import service as auth_service
from people.auth import views as auth_views
from people.auth.models import Role
from tests.backoffice.analytics.test_service import TOTALS
from tests.backoffice.analytics.world import World, build

PASSWORD = "correct horse battery"
BASE = "http://gateway.test"
API = "/agent/api/admin/analytics"
RANGE = {"from": "2021-03-01", "to": "2021-03-07"}
FORMULA = '=HYPERLINK("http://e.vil","x"),1'  # 32 characters: the longest variant key


@pytest.fixture
async def world(session: AsyncSession) -> World:
    built = await build(session)
    for name, role in (("admin", Role.ADMIN), ("agent", Role.AGENT)):
        await auth_service.create_user(
            session=session, username=f"{name}@example.org", password=PASSWORD, display_name=name, role=role
        )
    await session.commit()
    return built


@pytest.fixture
async def client(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
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


async def test_admins_only(client: httpx.AsyncClient, world: World) -> None:
    for path in ("/metrics", "/export.csv"):
        assert (await client.get(API + path)).status_code == 401
    await login(client, "agent")
    for path in ("/metrics", "/export.csv"):
        reply = await client.get(API + path)
        assert (reply.status_code, reply.json()) == (403, {"detail": "forbidden"})


async def test_metrics_json(client: httpx.AsyncClient, world: World) -> None:
    await login(client, "admin")
    reply = await client.get(API + "/metrics", params={**RANGE, "bucket": "day", "tz": "UTC"})
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["totals"] == TOTALS
    assert data["filters"] == {
        "from": "2021-03-01",
        "to": "2021-03-07",
        "tz": "UTC",
        "bucket": "day",
        "channel": None,
        "locale": None,
        "experiment": world.experiment_id,
        "variant": None,
    }
    assert len(data["series"]) == 7 and data["currencies"] == ["EUR", "SEK"]
    # Empty filter fields (as a form sends them) mean "all".
    same = await client.get(API + "/metrics", params={**RANGE, "channel": "", "locale": "", "variant": ""})
    assert same.status_code == 200 and same.json()["totals"] == TOTALS
    sms = await client.get(API + "/metrics", params={**RANGE, "channel": "sms", "variant": "neutral"})
    assert sms.status_code == 200 and sms.json()["totals"]["conversations"] == 1


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2021-03-08", "to": "2021-03-07"}, "from_after_to"),
        ({"from": "2020-01-01", "to": "2021-01-02"}, "range_too_long"),
        ({"tz": "Not/AZone"}, "invalid_timezone"),
        ({"bucket": "year"}, "invalid_bucket"),
        ({"channel": "pigeon"}, "unknown_channel"),
        ({"locale": "xx"}, "unknown_locale"),
        ({"experiment": "999999"}, "unknown_experiment"),
        ({"variant": "social_proof"}, "unknown_variant"),
    ],
)
async def test_invalid_filters_are_422(
    client: httpx.AsyncClient, world: World, params: dict[str, str], code: str
) -> None:
    await login(client, "admin")
    for path in ("/metrics", "/export.csv"):
        reply = await client.get(API + path, params={**RANGE, **params})
        assert (reply.status_code, reply.json()) == (422, {"detail": code}), path


@pytest.mark.parametrize(
    "params",
    [{"from": "yesterday"}, {"to": "2021-02-30"}, {"experiment": "x"}, {"experiment": "0"}, {"tz": "x" * 65}],
)
async def test_malformed_parameters_are_422(client: httpx.AsyncClient, world: World, params: dict[str, str]) -> None:
    await login(client, "admin")
    assert (await client.get(API + "/metrics", params={**RANGE, **params})).status_code == 422


async def risky_variant(session: AsyncSession, world: World) -> None:
    """An admin-typed variant key that a spreadsheet would run as a formula (Lucas gets it)."""
    experiment = await session.get(Experiment, world.experiment_id)
    assert experiment is not None
    experiment.variants = [*experiment.variants, {"key": FORMULA, "text_key": "utter_x", "share": 0}]
    session.add(ExperimentAssignment(experiment_id=experiment.id, debtor_id=world.debtors["lucas"], variant=FORMULA))
    await session.commit()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_csv_export(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    await risky_variant(session, world)
    await login(client, "admin")
    reply = await client.get(API + "/export.csv", params=RANGE)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["content-disposition"] == 'attachment; filename="dashboard_2021-03-01_2021-03-07_day.csv"'
    text = reply.text
    header = text.split("\r\n", 1)[0].split(",")
    assert header == [
        "bucket",
        "from",
        "to",
        "timezone",
        "dimension",
        "value",
        *NUMBERS,
        "amount_collected_EUR",
        "amount_collected_SEK",
        "amount_refunded_EUR",
        "amount_refunded_SEK",
    ]
    table = rows(text)
    # 7 days + the total, each: all + 5 channels + 5 locales + 4 variants (incl. the risky one).
    assert len(table) == 8 * (1 + 5 + 5 + 4)
    total = next(r for r in table if r["bucket"] == "total" and r["dimension"] == "all")
    assert (total["from"], total["to"], total["timezone"], total["value"]) == ("2021-03-01", "2021-03-07", "UTC", "all")
    expected: dict[str, Any] = {k: v for k, v in TOTALS.items() if not isinstance(v, dict)}
    expected.update({f"handoffs_{r}": n for r, n in TOTALS["handoff_reasons"].items()})
    assert {k: total[k] for k in NUMBERS} == {k: str(expected[k]) for k in NUMBERS}
    assert (total["amount_collected_EUR"], total["amount_collected_SEK"]) == ("349.90", "1890.00")
    assert (total["amount_refunded_EUR"], total["amount_refunded_SEK"]) == ("0.00", "100.00")
    empty_day = next(r for r in table if r["bucket"] == "2021-03-07" and r["dimension"] == "all")
    assert (empty_day["conversations"], empty_day["containment_rate"], empty_day["amount_collected_SEK"]) == (
        "0",
        "",
        "0.00",
    )
    # The risky key: quoted (comma, quotes) and defused with a leading apostrophe.
    risky = [r for r in table if r["dimension"] == "variant" and r["value"].startswith("'=")]
    assert {r["value"] for r in risky} == {"'" + FORMULA} and len(risky) == 8
    risky_total = next(r for r in risky if r["bucket"] == "total")
    assert (risky_total["opt_outs"], risky_total["conversations"]) == ("1", "0")
    assert '"\'=HYPERLINK(""http://e.vil"",""x""),1"' in text
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in table for cell in r.values())


async def test_csv_follows_the_filters(client: httpx.AsyncClient, world: World) -> None:
    await login(client, "admin")
    reply = await client.get(
        API + "/export.csv", params={"from": "2021-02-25", "to": "2021-03-07", "bucket": "week", "channel": "sms"}
    )
    assert reply.status_code == 200
    assert reply.headers["content-disposition"] == 'attachment; filename="dashboard_2021-02-25_2021-03-07_week.csv"'
    table = rows(reply.text)
    assert {r["bucket"] for r in table} == {"2021-02-22", "2021-03-01", "total"}
    assert {(r["dimension"], r["value"]) for r in table} == {
        ("all", "all"),
        ("channel", "sms"),
        ("locale", "sv"),
        ("variant", "neutral"),
    }
    week = next(r for r in table if r["bucket"] == "2021-03-01" and r["dimension"] == "all")
    assert (week["conversations"], week["payments"], week["amount_collected_SEK"]) == ("1", "1", "1890.00")
    assert "amount_collected_EUR" not in table[0]  # no EUR money in this selection
