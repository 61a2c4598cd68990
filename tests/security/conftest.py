"""One started stack per special configuration, shared by the security modules that need it
(tests/security/stacks.py says which and why): a stack start costs ~20 s of Rasa loading."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import TELEGRAM_SECRET
from tests.databases import fresh_postgres
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.security.stacks import IDLE_SECONDS, LOCK_DBS, SecurityStack
from tests.stack import MODEL, RASA, fake_provider_env


def _run(stack: SecurityStack) -> Iterator[SecurityStack]:
    if not MODEL.exists() or not RASA.exists():
        pytest.fail("end-to-end tests need the Rasa venv and a trained model: run `make test`")
    redis.Redis(host="127.0.0.1", port=6379).ping()  # Rasa's lock store
    try:
        yield stack.up()  # type: ignore[misc]
    finally:
        stack.down()


@pytest.fixture(scope="session")
def security_sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecurityStack]:
    workdir: Path = tmp_path_factory.mktemp("security-sqlite")
    stack = SecurityStack(
        workdir=workdir,
        database_url=f"sqlite+aiosqlite:///{workdir / 'security.db'}",
        extra_env={"WEBCHAT_VERIFIED_IDLE_MINUTES": str(IDLE_SECONDS / 60), "LOG_LEVEL": "INFO"},
        tracker_store_url=f"sqlite:///{workdir / 'rasa-trackers.db'}",
        lock_db=LOCK_DBS["sqlite"],
        without_payments=True,
    )
    yield from _run(stack)


@pytest.fixture(scope="session")
def security_postgres_stack(
    tmp_path_factory: pytest.TempPathFactory, fakes: tuple[FakeTwilio, FakeTelegram]
) -> Iterator[SecurityStack]:
    twilio, telegram = fakes
    stack = SecurityStack(
        workdir=tmp_path_factory.mktemp("security-postgres"),
        database_url=asyncio.run(fresh_postgres("debtor_security_lockout")),
        extra_env=fake_provider_env(twilio, telegram, telegram_secret=TELEGRAM_SECRET),
        tracker_store_url=asyncio.run(fresh_postgres("rasa_erase_e2e")),
        lock_db=LOCK_DBS["postgres"],
    )
    yield from _run(stack)
