"""Where the checks send their requests: the real gateway app, in-process or as the real stack.

In-process (`in_process`): `app.main.create_app` on a fresh migrated and seeded database,
reached through `httpx.ASGITransport`, with FakeTwilio and FakeTelegram on loopback. Inbox tasks
run at once (huey's immediate mode), so whatever a request causes (rows, replies, receipts) has
happened when its response arrives: "nothing stored or sent" is then a plain before/after
comparison. Rasa is not started: an accepted message is stored, recorded and answered with
"replies are delayed" (sent through the fake), which makes an acceptance visible too.

The real stack (`stack_target`): tests/stack.py's processes (Rasa, actions, gateway, worker) on
SQLite, for checks that need real replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from huey.signals import SIGNAL_ERROR
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import worker
from app.config import get_settings
from app.main import create_app
from app.manage import migrate
from core.database import READ_ONLY, Base, make_engine, make_sessionmaker
from people.debtors.seed import seed_demo
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.stack import MODEL, RASA, Stack, fake_provider_env, free_port

PUBLIC_BASE_URL = "https://collect.example.org"  # what Twilio signs (PUBLIC_BASE_URL)
TELEGRAM_SECRET = "tg-reliability-secret-0123456789"
SMS_FROM, WHATSAPP_FROM = "+46700000000", "+46700000001"
# Abuse limits (issue 8 point 7) raised so that a check is never throttled: it measures
# authenticity and idempotency, not rate limiting. Names from the rate-limit work (limits.md).
RAISED_LIMITS = {
    name: "1000000/minute"
    for name in (
        "RATE_LIMIT_SENDER",
        "RATE_LIMIT_WEBHOOK_FAILURES_IP",
        "RATE_LIMIT_WEBCHAT_SESSION",
        "RATE_LIMIT_WEBCHAT_IP",
    )
}


class CrashRecordingTransport(httpx.ASGITransport):
    """An app exception becomes a 500 answer (as a real server gives it), remembered by type."""

    def __init__(self, app: Any, crashes: Counter[str]) -> None:
        super().__init__(app=app, raise_app_exceptions=True)
        self.crashes = crashes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except Exception as exc:
            self.crashes[f"{request.url.path}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"] += 1
            return httpx.Response(500, request=request)


@dataclass
class Target:
    """A gateway to send webhooks to, its database, and the fakes that see what it sends."""

    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    database_url: str
    twilio: FakeTwilio
    telegram: FakeTelegram
    public_base_url: str
    twilio_token: str
    telegram_secret: str
    stripe_secret: str
    in_process: bool
    crashes: Counter[str] = field(default_factory=Counter)  # in-process: exceptions behind 500s
    app: Any = None  # in-process: the FastAPI app (its state: pipeline, settings)

    def sent(self) -> int:
        """Requests the fakes received so far (sends, rejected sends, getMe...)."""
        return len(self.twilio.requests) + len(self.telegram.requests)

    async def fingerprint(self) -> dict[str, str]:
        """A digest of every table's rows: two equal fingerprints mean nothing was stored."""
        digests: dict[str, str] = {}
        async with self.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)
            for table in Base.metadata.sorted_tables:
                rows = (await session.execute(select(table))).all()
                digests[table.name] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
        return digests

    async def quiet(self, *, within: float = 10.0) -> dict[str, str]:
        """The fingerprint once nothing changes any more (startup jobs finished)."""
        last = await self.fingerprint()
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.3)
            current = await self.fingerprint()
            if current == last:
                return current
            last = current
        raise RuntimeError("the database kept changing with no request being made")


def changed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Settings come from the environment (the inbox worker reads them with get_settings())."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


async def prepare_database(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        await seed_demo(session=session)
        await session.commit()
    await engine.dispose()


@contextlib.asynccontextmanager
async def in_process(*, database_url: str | None = None) -> AsyncIterator[Target]:
    """The gateway app in this process on a fresh database (SQLite in a temporary folder unless
    `database_url` names an empty one), Rasa unreachable, inbox tasks run immediately."""
    with (
        tempfile.TemporaryDirectory(prefix="reliability-") as folder,
        FakeTwilio() as twilio,
        FakeTelegram() as telegram,
    ):
        workdir = Path(folder)
        url = database_url or f"sqlite+aiosqlite:///{workdir / 'gateway.db'}"
        await prepare_database(url)
        dead = f"http://127.0.0.1:{free_port()}"
        values = {
            "DATABASE_URL": url,
            "ASSISTANT_ENV": "test",  # SQLite, http, the sandbox (core/profile.py)
            "RASA_URL": dead,
            "RASA_URLS": "",
            "ACTION_SERVER_URL": dead,
            "HEALTH_TIMEOUT_SECONDS": "0.5",
            "RASA_TIMEOUT_SECONDS": "2",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "SANDBOX_SECRET_FILE": str(workdir / "sandbox-webhook-secret"),
            "PAYMENTS_SANDBOX": "true",  # opt-in (payments/config.py): the sweep signs Stripe events with its secret
            "HUEY_IMMEDIATE": "true",
            "HUEY_FILE": str(workdir / "huey.db"),
            **fake_provider_env(
                twilio, telegram, telegram_secret=TELEGRAM_SECRET, sms_from=SMS_FROM, whatsapp_from=WHATSAPP_FROM
            ),
            "TRAINING_MODELS_DIR": str(workdir / "models"),
            "CONSOLE_CREDENTIALS_FILE": str(workdir / "console-credentials.txt"),
            **RAISED_LIMITS,
        }
        with environment(values):
            settings = get_settings()
            immediate = worker.huey.immediate
            worker.huey.immediate = True  # the queue in memory, tasks run inside the request
            crashes: Counter[str] = Counter()

            def task_failed(signal: str, task: Any, exc: BaseException | None = None) -> None:
                crashes[f"inbox task: {type(exc).__name__}: {str(exc).splitlines()[0][:120] if exc else ''}"] += 1

            worker.huey.signal(SIGNAL_ERROR)(task_failed)
            try:
                app = create_app(settings)
                transport = CrashRecordingTransport(app, crashes)
                async with (
                    app.router.lifespan_context(app),
                    httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as client,
                ):
                    yield Target(
                        client=client,
                        sessionmaker=app.state.sessionmaker,
                        database_url=url,
                        twilio=twilio,
                        telegram=telegram,
                        public_base_url=PUBLIC_BASE_URL,
                        twilio_token=twilio.auth_token,
                        telegram_secret=TELEGRAM_SECRET,
                        stripe_secret=settings.webhook_secret() or "",  # PAYMENTS_SANDBOX is on above
                        in_process=True,
                        crashes=transport.crashes,
                        app=app,
                    )
            finally:
                worker.huey.disconnect_signal(task_failed, SIGNAL_ERROR)
                worker.huey.immediate = immediate


def stack_env(twilio: FakeTwilio, telegram: FakeTelegram, telegram_secret: str = TELEGRAM_SECRET) -> dict[str, str]:
    """What tests/conftest.py's `stack` fixture gives the processes, limits raised."""
    return {
        **fake_provider_env(
            twilio, telegram, telegram_secret=telegram_secret, sms_from=SMS_FROM, whatsapp_from=WHATSAPP_FROM
        ),
        "INBOX_MAX_BACKOFF_SECONDS": "3",
        **RAISED_LIMITS,
    }


@contextlib.asynccontextmanager
async def on_stack(
    stack: Stack, twilio: FakeTwilio, telegram: FakeTelegram, telegram_secret: str
) -> AsyncIterator[Target]:
    """A Target for a running Stack (its gateway over HTTP, its SQLite file for setup and counts)."""
    engine = make_engine(stack.database_url)
    try:
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
            yield Target(
                client=client,
                sessionmaker=make_sessionmaker(engine),
                database_url=stack.database_url,
                twilio=twilio,
                telegram=telegram,
                public_base_url=stack.gateway_url,
                twilio_token=twilio.auth_token,
                telegram_secret=telegram_secret,
                stripe_secret=(stack.workdir / "sandbox-webhook-secret").read_text().strip(),
                in_process=False,
            )
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def stack_target() -> AsyncIterator[Target]:
    """Start fakes and the real processes on a fresh SQLite database (needs `make train`)."""
    if not MODEL.exists() or not RASA.exists():
        raise RuntimeError("the real stack needs the Rasa venv and a trained model: run `make install train`")
    with (
        tempfile.TemporaryDirectory(prefix="reliability-stack-") as folder,
        FakeTwilio() as twilio,
        FakeTelegram() as telegram,
    ):
        workdir = Path(folder)
        stack = Stack(
            workdir=workdir,
            database_url=f"sqlite+aiosqlite:///{workdir / 'stack.db'}",
            extra_env=stack_env(twilio, telegram),
        )
        try:
            await asyncio.to_thread(stack.up)
            async with on_stack(stack, twilio, telegram, TELEGRAM_SECRET) as target:
                yield target
        finally:
            await asyncio.to_thread(stack.down)
