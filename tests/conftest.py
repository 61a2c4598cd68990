"""Shared fixtures: the real process stack, and service databases on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

# In-process tests run inbox tasks immediately (huey's own test mode); real processes started
# by tests (the e2e stack) get a real queue — tests/stack.py sets HUEY_IMMEDIATE=false for them.
os.environ.setdefault("HUEY_IMMEDIATE", "true")
# The test profile (core/profile.py): SQLite, plain http and the payments sandbox are allowed, API
# docs stay staff-only as in production. Set before anything reads the settings (app.worker does
# on import); tests of the production profile set ASSISTANT_ENV themselves.
os.environ["ASSISTANT_ENV"] = "test"

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.manage import migrate
from core.database import make_engine, make_sessionmaker
from people.debtors.seed import seed_demo
from people.gdpr import config as gdpr_config
from tests.databases import fresh_postgres
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.pipeline_harness import harness  # noqa: F401 - the pipeline with Rasa faked at the HTTP edge
from tests.stack import MODEL, RASA, SMS_NUMBER, WHATSAPP_NUMBER, Stack, fake_provider_env  # noqa: F401

PG_DATABASE = "debtor_assistant_test"
PG_CONCURRENCY_DATABASE = "debtor_assistant_concurrency"


TELEGRAM_SECRET = "tg-secret-for-tests"


# The files the app keeps under the repository's var/ by default, as the settings that move them.
VAR_FILES = {
    "HUEY_FILE": "huey.db",
    "SANDBOX_SECRET_FILE": "sandbox-webhook-secret",
    "CONSOLE_CREDENTIALS_FILE": "console-credentials.txt",
    "TRAINING_MODELS_DIR": "models",
    "PRIVACY_HASH_KEY_FILE": "privacy-hash-key",
}


def pytest_configure(config: pytest.Config) -> None:
    """var/ files go to a folder of this test process (of each xdist worker), set before any test
    module is imported: workers never share a queue, a secret or a model, nor race to create one,
    and a run leaves the developer's var/ alone. Stacks (tests/stack.py) still get their own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    folder = Path(tempfile.mkdtemp(prefix=f"pytest-var-{worker}-"))
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    for name, file in VAR_FILES.items():
        os.environ[name] = str(folder / file)  # not setdefault: workers inherit the controller's


# The slowest files (half a minute to a minute and a half each, mostly their own real processes).
# xdist hands out whole files in collection order (pyproject: --dist loadfile
# --no-loadscope-reorder): started first, they overlap with the rest instead of leaving one worker
# running one alone at the end.
SLOW_FILES = {
    "tests/app/tools/test_reliability_disclosure.py",
    "tests/e2e/test_sharding.py",
    "tests/e2e/test_topology.py",
    "tests/backoffice/training/test_intents_browser.py",
    "tests/security/test_erase_rasa.py",
    "tests/security/test_lockout.py",
    "tests/security/test_webchat_sessions.py",
    "tests/app/tools/test_reliability_crash.py",
    "tests/e2e/test_channels.py",
    "tests/people/gdpr/test_views.py",
    "tests/security/test_payments_sandbox.py",
    "tests/e2e/test_conversation.py",
    "tests/app/tools/test_reliability_replay.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow files first; a stable sort, so file order (or pytest-randomly's shuffle) stays otherwise."""
    items.sort(key=lambda item: item.nodeid.split("::", 1)[0] not in SLOW_FILES)


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Building the app configures logging for the whole process (app/logging.py), a test may
    ask for DEBUG: every test starts from the root logger's level and handlers as they were."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture(autouse=True)
def _privacy_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The privacy hash key for in-process tests: every test that builds the app or erases someone
    would otherwise write (and then share) the developer's var/privacy-hash-key (people/gdpr/config.py)."""
    monkeypatch.setenv("PRIVACY_HASH_KEY", "test-privacy-key-not-for-production")
    gdpr_config.hash_key.cache_clear()
    yield
    gdpr_config.hash_key.cache_clear()


@pytest.fixture(scope="session")
def fakes() -> Iterator[tuple[FakeTwilio, FakeTelegram]]:
    """Twilio's and Telegram's APIs, faked on loopback: what the stack sends lands here."""
    with FakeTwilio() as twilio, FakeTelegram() as telegram:
        yield twilio, telegram


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, fakes: tuple[FakeTwilio, FakeTelegram]) -> Iterator[Stack]:
    """Rasa + action server + gateway + inbox worker as real processes on a fresh SQLite database."""
    if not MODEL.exists() or not RASA.exists():
        pytest.fail("end-to-end tests need the Rasa venv and a trained model: run `make test`")
    workdir: Path = tmp_path_factory.mktemp("stack")
    twilio, telegram = fakes
    stack = Stack(
        workdir=workdir,
        database_url=f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        extra_env={
            **fake_provider_env(twilio, telegram, telegram_secret=TELEGRAM_SECRET),
            "INBOX_MAX_BACKOFF_SECONDS": "3",
        },
    )
    try:
        yield stack.up()
    finally:
        stack.down()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A database per backend, built by the Alembic migrations (not create_all) and seeded."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'service.db'}"
    else:
        url = await fresh_postgres(PG_DATABASE)
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        await seed_demo(session=session)
        await session.commit()
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def committed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A real, committing database (no rollback wrapper: concurrency needs separate transactions)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('conc') / 'db.sqlite'}"
    else:
        url = await fresh_postgres(PG_CONCURRENCY_DATABASE)
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    async with maker() as session:
        await seed_demo(session=session)
        await session.commit()
    yield maker
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back: commits become savepoints."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def sessionmaker(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """More sessions on the same rolled-back connection (for code that opens its own)."""
    return async_sessionmaker(bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False)


# Headless Debian Chromium for the page tests (Playwright, never a downloaded browser).
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
