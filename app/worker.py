"""The inbox worker: huey tasks that drain a conversation's inbox.

Run it with `huey_consumer inbox.worker.huey -k thread -w 4` (the Procfile does). The queue is
an SQLite file by default (embedded, survives restarts) and Redis when HUEY_REDIS_URL is set.
A per-conversation lock keeps one worker per conversation, so replies stay in order; a task
that finds the lock taken reschedules itself; a periodic sweep re-queues anything whose retry
time has come (after a restart, or a lost schedule). A consumer that was killed leaves its locks
behind: the next one frees them when it starts (`recover`), so run one consumer process per
queue and scale it with `-w` threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.exceptions import TaskLockedException

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from app import worker_metrics
from app.config import GatewaySettings, get_settings
from app.wiring import build_pipeline
from core.database import READ_ONLY, make_engine, make_sessionmaker
from core.logging import configure_logging
from engine.conversations.pipeline import Pipeline
from engine.inbox import service as inbox_service
from engine.language.detector import LanguageDetector

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_huey(settings: GatewaySettings) -> Huey:
    if settings.huey_immediate:
        return Huey("inbox", immediate=True)
    if settings.huey_redis_url:
        return RedisHuey("inbox", url=settings.huey_redis_url)
    settings.huey_file.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("inbox", filename=str(settings.huey_file))


huey = make_huey(get_settings())


@huey.on_startup()
def json_logs() -> None:
    """JSON logs with personal data masked, in the consumer only (each worker runs this after
    huey_consumer has added its console handler, which this replaces)."""
    configure_logging(service="worker")


@dataclass
class Runtime:
    """Per worker thread: one event loop and the async resources bound to it."""

    loop: asyncio.AbstractEventLoop
    pipeline: Pipeline
    settings: GatewaySettings

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)


_local = threading.local()
_detector: LanguageDetector | None = None
_detector_lock = threading.Lock()


def _shared_detector() -> LanguageDetector:
    global _detector
    with _detector_lock:
        if _detector is None:
            _detector = LanguageDetector()
        return _detector


def runtime() -> Runtime:
    current: Runtime | None = getattr(_local, "runtime", None)
    settings = get_settings()
    if current is None or current.settings is not settings:  # (tests change settings between modules)
        loop = asyncio.new_event_loop()
        engine = make_engine(settings.database_url)
        http = httpx.AsyncClient()
        sessionmaker = make_sessionmaker(engine)
        pipeline = build_pipeline(settings, sessionmaker=sessionmaker, http=http, detector=_shared_detector())
        current = Runtime(loop=loop, pipeline=pipeline, settings=settings)
        _local.runtime = current
    return current


_metrics_lock = threading.Lock()
_metrics_server: worker_metrics.MetricsServer | None = None


@huey.on_startup()
def serve_metrics() -> None:
    """The worker's counters on its own port, started once per consumer (app/worker_metrics.py)."""
    global _metrics_server
    settings = get_settings()
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    with _metrics_lock:
        if _metrics_server is None:
            _metrics_server = worker_metrics.start(settings.worker_metrics_host, settings.worker_metrics_port, token)


LOCK_PREFIX = "conversation:"
_recovery = threading.Lock()
_recovered = False


@huey.task()
def process_conversation(conversation_id: str) -> None:
    try:
        with huey.lock_task(f"{LOCK_PREFIX}{conversation_id}"):
            wait = runtime().run(inbox_service.drain(pipeline=runtime().pipeline, conversation_id=conversation_id))
    except TaskLockedException:
        wait = 1.0  # another worker is on this conversation; look again in a moment
    if wait is not None:
        process_conversation.schedule((conversation_id,), delay=max(wait, 0.2))


@huey.periodic_task(crontab(minute="*"))
def sweep() -> None:
    """Re-queue conversations whose retry time has come (restarts, lost schedules)."""
    pipeline = runtime().pipeline

    async def due() -> list[str]:
        async with pipeline.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)  # a read: no write lock on SQLite
            return await inbox_service.due_conversations(session=session)

    for conversation_id in runtime().run(due()):
        process_conversation(conversation_id)


@huey.on_startup()
def recover() -> None:
    """A consumer killed mid-conversation (SIGKILL, OOM, a lost machine) leaves that conversation's
    lock behind (huey's locks have no owner and, on SQLite, no expiry) and its task gone from the
    queue: the conversation would never be answered again (tests/inbox/test_worker_recovery.py).
    So the first worker thread to start frees every conversation lock and re-queues what is
    waiting; the other threads wait for it, so no task runs before. Only sound with one consumer
    process per queue and thread workers (`-k thread`, as the Procfile and compose run it): another
    process starting would free locks a running one still holds."""
    global _recovered
    with _recovery:
        if _recovered:
            return
        prefix = f"{huey.name}.lock.{LOCK_PREFIX}"
        stale = [key for key in huey.all_results() if str(key).startswith(prefix)]
        for key in stale:
            huey.delete(key)
        if stale:
            log.warning("inbox.stale_locks_freed", extra={"count": len(stale)})
        sweep.call_local()
        _recovered = True


async def enqueue(conversation_id: str) -> None:
    """From async code (a webhook): queue without blocking the event loop on the queue's I/O."""
    await asyncio.to_thread(process_conversation, conversation_id)
