"""Probes for orchestrators (docs/operations.md): `/health/live` says the process answers and
checks nothing (a restart would not fix a database outage); `/health/ready` checks every
dependency a message needs and is 503, naming what is down, until they all answer, so a load
balancer sends no traffic to a gateway that cannot serve it. `/health` (app/views.py) stays the
always-200 overview for people."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.config import GatewaySettings
from core.database import READ_ONLY
from engine.conversations.rasa_client import RasaClient
from engine.inbox import service as inbox_service

router = APIRouter(tags=["ops"])
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


class Check(BaseModel):
    name: str  # database, rasa:<instance url>, action_server, redis:<use>, worker
    up: bool
    detail: str


class Live(BaseModel):
    status: Literal["alive"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    down: list[str]  # the names of the checks that failed
    checks: list[Check]


@router.get("/health/live", response_model=Live)
async def live() -> Live:
    """200 while the process serves requests; no dependency is checked."""
    return Live(status="alive")


@router.get(
    "/health/ready", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}}
)
async def ready(request: Request) -> JSONResponse:
    """200 when the database, every Rasa instance, the action server and each configured Redis
    answer and the worker keeps up with the inbox; else 503 naming what is down."""
    settings: GatewaySettings = request.app.state.settings
    timeout = settings.health_timeout_seconds
    rasa: RasaClient = request.app.state.rasa
    groups = await asyncio.gather(
        _bounded("database", _database(request, settings), timeout),
        _bounded("rasa", _rasa(rasa), timeout),
        _bounded("action_server", _action_server(rasa), timeout),
        *(_bounded(name, redis_check(name, url, timeout), timeout) for name, url in redis_urls(settings).items()),
    )
    checks = [check for group in groups for check in group]
    down = [check.name for check in checks if not check.up]
    body = Readiness(status="not_ready" if down else "ready", down=down, checks=checks)
    return JSONResponse(body.model_dump(), status_code=503 if down else 200)


def redis_urls(settings: GatewaySettings) -> dict[str, str]:
    """Each Redis this deployment uses, by what for: the rate-limit counters, the inbox queue,
    Rasa's lock store (only when configured: the embedded setup has none)."""
    urls = {
        "rate_limits": settings.rate_limit_storage_url.removeprefix("async+"),  # limits' own prefix
        "queue": settings.huey_redis_url,
        "lock_store": settings.rasa_lock_store_url,
    }
    return {f"redis:{use}": url for use, url in urls.items() if url and urlsplit(url).scheme in REDIS_SCHEMES}


async def _bounded(name: str, probe: Awaitable[list[Check]], seconds: float) -> list[Check]:
    """A probe that hangs (a SQLite writer holding the lock, a black-holed host) is down, not slow."""
    try:
        async with asyncio.timeout(seconds + 0.5):
            return await probe
    except TimeoutError:
        return [Check(name=name, up=False, detail="timeout")]


async def _database(request: Request, settings: GatewaySettings) -> list[Check]:
    """The database answers a read, and the worker's lag: the oldest waiting inbox event."""
    try:
        async with request.app.state.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)  # no write lock on SQLite
            await session.execute(text("SELECT 1"))
            waiting, age = await inbox_service.backlog(session=session)
    except Exception as exc:
        return [Check(name="database", up=False, detail=type(exc).__name__)]
    limit = settings.ready_max_inbox_age_seconds
    worker = Check(name="worker", up=age <= limit, detail=f"{waiting} waiting, oldest {age:.0f}s (limit {limit:.0f}s)")
    return [Check(name="database", up=True, detail=session.bind.dialect.name), worker]


async def _rasa(rasa: RasaClient) -> list[Check]:
    return [Check(name=f"rasa:{i.url}", up=i.up, detail=i.detail) for i in await rasa.instance_statuses()]


async def _action_server(rasa: RasaClient) -> list[Check]:
    up, detail = await rasa.action_server_status()
    return [Check(name="action_server", up=up, detail=detail)]


async def redis_check(name: str, url: str, seconds: float) -> list[Check]:
    client = aioredis.from_url(url, socket_connect_timeout=seconds, socket_timeout=seconds)
    try:
        await client.ping()
    except Exception as exc:
        return [Check(name=name, up=False, detail=type(exc).__name__)]
    finally:
        await client.aclose()
    return [Check(name=name, up=True, detail="PONG")]
