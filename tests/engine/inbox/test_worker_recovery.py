"""A worker killed (SIGKILL, OOM, power) in the middle of a conversation leaves that conversation's
huey lock behind, and the task it ran is gone from the queue. The restarted worker must still
answer the conversation: a real `huey_consumer` process on a real SQLite queue (Rasa is left
unreachable, so "reached" shows as a postponed attempt; no model needed)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from huey import SqliteHuey
from sqlalchemy.ext.asyncio import AsyncSession

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from app.manage import migrate
from channels.base import InboundMessage
from core.database import make_engine
from engine.inbox import service as inbox_service
from engine.inbox.models import InboundEvent
from tests.stack import ROOT, free_port

CONSUMER = ROOT / ".venv" / "bin" / "huey_consumer"


async def _accept(url: str) -> tuple[str, int]:
    engine = make_engine(url)
    try:
        async with AsyncSession(engine) as session:
            message = InboundMessage(
                channel="sms", sender="+447700900123", text="hello", received_at=datetime.now(UTC),
                provider_message_id="SMcrash0001", locale_hint="en",
            )  # fmt: skip
            event = await inbox_service.accept(session=session, message=message)
            assert event is not None
            await session.flush()
            ids = event.conversation_id, event.id
            await session.commit()
            return ids
    finally:
        await engine.dispose()


async def _attempts(url: str, event_id: int) -> int:
    engine = make_engine(url)
    try:
        async with AsyncSession(engine) as session:
            event = await session.get(InboundEvent, event_id)
            assert event is not None
            return event.attempts
    finally:
        await engine.dispose()


def test_a_lock_left_by_a_killed_worker_does_not_hold_the_conversation_forever(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    conversation_id, event_id = asyncio.run(_accept(url))
    # What a worker killed inside process_conversation leaves: the conversation's lock, no task.
    queue = SqliteHuey("inbox", filename=str(tmp_path / "huey.db"))
    queue.lock_task(f"conversation:{conversation_id}").acquire()
    queue.storage.close()

    down = f"http://127.0.0.1:{free_port()}"
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=url, HUEY_FILE=str(tmp_path / "huey.db"), HUEY_IMMEDIATE="false",
        RASA_URL=down, ACTION_SERVER_URL=down, INBOX_MAX_BACKOFF_SECONDS="1", LOG_LEVEL="WARNING",
    )  # fmt: skip
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(
            [str(CONSUMER), "app.worker.huey", "-k", "thread", "-w", "2"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        # The next webhook of that conversation queues it again (as the gateway does).
        enqueue = f"from app.worker import process_conversation; process_conversation({conversation_id!r})"
        subprocess.run([sys.executable, "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=60)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and asyncio.run(_attempts(url, event_id)) == 0:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.5)
        assert asyncio.run(_attempts(url, event_id)) > 0, "the conversation was never worked on again"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
