"""The processes of the crash check: a running stack and its fakes (`Setup`: the test fixtures,
or a stack of our own), killing one without a goodbye and starting it again."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from core.database import make_engine
from engine.conversations.models import Conversation
from engine.inbox.models import InboundEvent, InboxStatus
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.stack import MODEL, RASA, SMS_NUMBER, WHATSAPP_NUMBER, Stack, fake_provider_env

TELEGRAM_SECRET = "crash-telegram-secret"


@dataclass
class Setup:
    """A running stack and the fakes it sends to (the `stack` and `fakes` test fixtures, or ours)."""

    stack: Stack
    twilio: FakeTwilio
    telegram: FakeTelegram
    telegram_secret: str = TELEGRAM_SECRET
    sms_number: str = SMS_NUMBER
    whatsapp_number: str = WHATSAPP_NUMBER


class SqlTrackerStack(Stack):
    """Rasa with the persistent trackers of bot/endpoints-sharded.yml (SQL trackers, Redis locks)
    instead of the in-memory defaults: a restarted Rasa then remembers where each dialogue was."""

    def command(self, name: str) -> list[str]:
        command = super().command(name)
        if name == "rasa":
            command[command.index("--endpoints") + 1] = "bot/endpoints-sharded.yml"
        return command


def sigkill(stack: Stack, name: str) -> None:
    """No goodbye: the process group dies mid-whatever (Stack.stop would ask politely)."""
    proc = stack.procs.pop(name)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def restart(stack: Stack, name: str) -> None:
    stack.start(name)
    if name in ("rasa", "actions"):
        stack.wait_healthy()  # the gateway's /health reaches both
        return
    time.sleep(1.0)
    if stack.procs[name].poll() is not None:
        raise RuntimeError(f"{name} did not restart: {stack.tail(name)}")


async def pending(database_url: str, addresses: list[str]) -> int:
    """Inbox events of these senders still waiting to be answered."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                select(func.count())
                .select_from(InboundEvent)
                .join(Conversation, Conversation.id == InboundEvent.conversation_id)
                .where(InboundEvent.status == InboxStatus.PENDING, Conversation.external_id.in_(addresses))
            )
    finally:
        await engine.dispose()
    return int(count or 0)


@contextmanager
def own_stack(*, trackers: str = "memory") -> Iterator[Setup]:
    """Rasa, actions, gateway and worker on a fresh SQLite database, the fakes on loopback."""
    if not MODEL.exists() or not RASA.exists():
        raise RuntimeError("the crash check needs the Rasa venv and a trained model: run `make install train`")
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp, FakeTwilio() as twilio, FakeTelegram() as telegram:
        persistent = {
            "RASA_TRACKER_STORE_URL": f"sqlite:///{Path(tmp) / 'rasa-trackers.db'}",
            "RASA_LOCK_STORE_HOST": "127.0.0.1",
            "RASA_LOCK_STORE_PORT": "6379",
            "RASA_LOCK_STORE_DB": "1",
        }
        stack = (SqlTrackerStack if trackers == "sql" else Stack)(
            workdir=Path(tmp),
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'crash.db'}",
            extra_env={
                **fake_provider_env(twilio, telegram, telegram_secret=TELEGRAM_SECRET),
                "INBOX_MAX_BACKOFF_SECONDS": "10",
                "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
                **(persistent if trackers == "sql" else {}),
            },
        )
        try:
            stack.up()
            yield Setup(stack=stack, twilio=twilio, telegram=telegram)
        finally:
            stack.down()
