"""`python -m app.manage check-config` (`make check-config`): every problem with this environment's
configuration at once, before anything is started. The profile's own refusals (core/profile.py:
what the gateway, the worker and the action server would refuse to start with, in production
only), then what the settings point at: the database answers and is migrated, each configured
Redis answers, every Rasa instance has a model loaded (when RASA_URL, RASA_URLS or RASA_INSTANCES
is set). Exit 1 and one line per problem, or 0 and "ok"."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.config import GatewaySettings
from app.health import redis_check, redis_urls
from app.manage import alembic_config
from bot.actions.settings import ActionSettings
from core.database import READ_ONLY, make_engine
from core.settings_sources import mask_url
from engine.conversations.rasa_client import RasaClient

# What each Redis of app/health.py's redis_urls is configured by.
REDIS_SETTINGS = {
    "redis:rate_limits": "RATE_LIMIT_STORAGE_URL",
    "redis:queue": "HUEY_REDIS_URL",
    "redis:lock_store": "RASA_LOCK_STORE_URL",
}
RASA_SETTINGS = frozenset({"rasa_url", "rasa_urls", "rasa_instances"})


def profile_problems(gateway: GatewaySettings, actions: ActionSettings) -> list[str]:
    """What the processes would refuse to start with (nothing outside production), each once."""
    if gateway.assistant_env != "production" and actions.assistant_env != "production":
        return []
    return list(dict.fromkeys([*gateway.production_problems(), *actions.production_problems()]))


async def database_problems(url: str, seconds: float) -> list[str]:
    """The database answers a read and has the latest schema; an SQLite file is never created here."""
    if make_url(url).get_backend_name() == "sqlite":
        path = make_url(url).database or ""
        if path not in ("", ":memory:") and not await asyncio.to_thread(Path(path).is_file):
            return [f"DATABASE_URL: no SQLite database at {path} (python -m app.manage migrate creates it)"]
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        async with asyncio.timeout(seconds), engine.connect() as connection:
            await connection.execution_options(**READ_ONLY)
            await connection.execute(text("SELECT 1"))
            try:
                version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            except Exception:
                version = None
    except Exception as exc:
        return [f"DATABASE_URL ({mask_url(url)}) does not answer: {type(exc).__name__}"]
    finally:
        await engine.dispose()
    if version != head:
        return [f"DATABASE_URL: the schema is at {version or 'nothing'}, not {head} (python -m app.manage migrate)"]
    return []


async def redis_problems(settings: GatewaySettings) -> list[str]:
    urls = redis_urls(settings)
    seconds = settings.health_timeout_seconds
    checks = await asyncio.gather(*(redis_check(name, url, seconds) for name, url in urls.items()))
    return [
        f"{REDIS_SETTINGS[check.name]} ({mask_url(urls[check.name])}) does not answer: {check.detail}"
        for group in checks
        for check in group
        if not check.up
    ]


async def rasa_problems(settings: GatewaySettings) -> list[str]:
    """Each instance answers with a model loaded, when Rasa is configured at all."""
    if not RASA_SETTINGS & settings.model_fields_set:
        return []
    token = settings.rasa_auth_token.get_secret_value() if settings.rasa_auth_token else None
    seconds = settings.health_timeout_seconds
    async with httpx.AsyncClient() as http:
        rasa = RasaClient(
            rasa_urls=settings.rasa_endpoints(), action_server_url=settings.action_server_url, http=http,
            timeout=seconds, health_timeout=seconds, auth_token=token,
        )  # fmt: skip
        statuses = await rasa.instance_statuses()
    return [f"Rasa at {s.url} is not ready: {s.detail}" for s in statuses if not s.up]


async def problems(gateway: GatewaySettings, actions: ActionSettings) -> list[str]:
    found = await asyncio.gather(
        database_problems(gateway.database_url, gateway.health_timeout_seconds),
        redis_problems(gateway),
        rasa_problems(gateway),
    )
    return [*profile_problems(gateway, actions), *(problem for group in found for problem in group)]


def main() -> int:
    try:
        gateway, actions = GatewaySettings(), ActionSettings()
    except (ValidationError, SettingsError) as exc:
        print(f"the settings do not load: {exc}", file=sys.stderr)
        return 1
    found = asyncio.run(problems(gateway, actions))
    for problem in found:
        print(f"- {problem}")
    if found:
        print(f"{len(found)} problem(s) (ASSISTANT_ENV={gateway.assistant_env})")
        return 1
    print(f"ok (ASSISTANT_ENV={gateway.assistant_env}, database {urlsplit(gateway.database_url).scheme})")
    return 0
