"""The inbox worker: huey tasks that drain a conversation's inbox.

Run it with `huey_consumer inbox.worker.huey -k thread -w 4` (the Procfile does). The queue is
an SQLite file by default (embedded, survives restarts) and Redis when HUEY_REDIS_URL is set.
A per-conversation lock keeps one worker per conversation, so replies stay in order; a task
that finds the lock taken reschedules itself; a periodic sweep re-queues anything whose retry
time has come (after a restart, or a lost schedule).
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
from app.config import GatewaySettings, get_settings
from app.database import make_engine, make_sessionmaker
from channels.outputs import build_outputs
from conversations.pipeline import Pipeline
from conversations.rasa_client import RasaClient
from inbox import service as inbox_service
from language.detector import LanguageDetector
from locales import Catalog
from signals import SignalScorer
from tone.overrides import ToneOverrides

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
        rasa = RasaClient(
            rasa_urls=settings.rasa_endpoints(),
            action_server_url=settings.action_server_url,
            http=http,
            timeout=settings.rasa_timeout_seconds,
            health_timeout=settings.health_timeout_seconds,
        )
        sessionmaker = make_sessionmaker(engine)
        pipeline = Pipeline(
            sessionmaker=sessionmaker,
            rasa=rasa,
            catalog=Catalog(overrides=ToneOverrides(sessionmaker)),
            detector=_shared_detector(),
            settings=settings,
            scorer=SignalScorer.from_settings(settings.signals_model_dir),
            outputs=build_outputs(settings),
        )
        current = Runtime(loop=loop, pipeline=pipeline, settings=settings)
        _local.runtime = current
    return current


@huey.task()
def process_conversation(conversation_id: str) -> None:
    try:
        with huey.lock_task(f"conversation:{conversation_id}"):
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
            return await inbox_service.due_conversations(session=session)

    for conversation_id in runtime().run(due()):
        process_conversation(conversation_id)


async def enqueue(conversation_id: str) -> None:
    """From async code (a webhook): queue without blocking the event loop on the queue's I/O."""
    await asyncio.to_thread(process_conversation, conversation_id)
