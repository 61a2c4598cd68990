"""The deployment profile (ASSISTANT_ENV) and the production profile's refusals.

"production" (the default, what docker-compose sets) is what a real deployment runs: each process
(gateway, inbox worker, action server) refuses to start when its settings are not fit for it,
naming every problem at once, so nobody fixes them one restart at a time. "demo" (`make run`) and
"test" (the test suite's stacks) run on one machine: SQLite, plain http, the payments sandbox.
Each feature says what it needs in production (payments/config.py, channels/config.py,
engine/abuse/config.py); `python -m app.manage check-config` prints the same list without refusing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from core.internal_tokens import TOKEN_NAMES, InternalTokenSettings

# A token `make run` generates has 43 characters of 64 kinds; anything much poorer is guessable.
MIN_TOKEN_CHARS = 32
MIN_TOKEN_DISTINCT = 12
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


class ProfileRefused(Exception):
    """Not a ValueError on purpose: raised from a settings loader, it reaches the operator as it
    is (pydantic would wrap a ValueError and dump the input, secrets included)."""


class Profile(BaseSettings):
    # ASSISTANT_ENV: "production" refuses unfit settings (this module); "demo" (what `make run`
    # sets) also opens /docs, /redoc and /openapi.json to anyone (app/openapi.py); "test" is the
    # test suite's stacks: no refusal, API docs for staff only, as in production.
    assistant_env: Literal["production", "demo", "test"] = "production"

    def production_problems(self) -> list[str]:
        """What this process's settings lack for production; each settings class composes its parts."""
        return []


def refuse_unfit(settings: Profile) -> None:
    """Raise ProfileRefused listing every problem when production settings are not fit to serve."""
    if settings.assistant_env != "production":
        return
    problems = settings.production_problems()
    if problems:
        raise ProfileRefused(refusal(problems))


def refusal(problems: Iterable[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return (
        "ASSISTANT_ENV=production: refusing to start, the configuration is not fit for production:\n"
        f"{lines}\n"
        "Fix them (`python -m app.manage check-config` lists them again), or run a local demo with ASSISTANT_ENV=demo."
    )


def database_problems(database_url: str) -> list[str]:
    if urlsplit(database_url).scheme.partition("+")[0] == "sqlite":
        return ["DATABASE_URL is SQLite: production needs PostgreSQL (postgresql://user:password@host:5432/assistant)"]
    return []


def public_url_problems(public_base_url: str) -> list[str]:
    parts = urlsplit(public_base_url)
    if parts.scheme != "https" or not parts.hostname:
        return ["PUBLIC_BASE_URL is not an https:// address: providers call it and debtors open payment pages on it"]
    return []


def token_problems(settings: InternalTokenSettings) -> list[str]:
    """Each internal token set, long and varied enough, and no two the same (one leaked token
    must not open the other doors)."""
    problems = []
    values: dict[str, str] = {}
    for name in TOKEN_NAMES:
        secret: SecretStr | None = getattr(settings, name.lower())
        value = secret.get_secret_value() if secret else ""
        if not value:
            problems.append(f"{name} is not set (a long random string, the same in every process)")
        elif len(value) < MIN_TOKEN_CHARS or len(set(value)) < MIN_TOKEN_DISTINCT:
            problems.append(
                f"{name} is weak: use {MIN_TOKEN_CHARS}+ random characters"
                " (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        else:
            values[name] = value
    for i, name in enumerate(values):
        if any(values[name] == values[other] for other in list(values)[:i]):
            problems.append(f"{name} is the same as another internal token: each needs its own")
    return problems


def redis_url_problem(name: str, url: str | None, purpose: str) -> list[str]:
    """A setting that must point at Redis (shared by every replica) in production."""
    scheme = urlsplit(url or "").scheme.removeprefix("async+")  # limits' own prefix
    if scheme.partition("+")[0] not in REDIS_SCHEMES:
        return [f"{name} is not a Redis URL (redis://host:6379/N): {purpose}"]
    return []
