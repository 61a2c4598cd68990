"""The queue behind the inbox: SQLite file by default, Redis in production — both real."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from app.config import GatewaySettings
from app.worker import make_huey


def run_one(huey) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    @huey.task()
    def remember(value: str) -> None:
        seen.append(value)

    remember("a")
    remember("b")
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    return seen


def test_sqlite_queue_survives_a_new_instance(tmp_path: Path) -> None:
    settings = GatewaySettings(huey_file=tmp_path / "q.db", huey_immediate=False)
    first = make_huey(settings)

    @first.task()
    def noop() -> None: ...

    noop()
    # A restarted worker (a new instance on the same file) still finds the queued task.
    assert len(make_huey(settings)) == 1
    assert run_one(make_huey(GatewaySettings(huey_file=tmp_path / "r.db", huey_immediate=False))) == ["a", "b"]


def test_redis_queue() -> None:
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is expected on 127.0.0.1:6379 (it runs on this machine and CI's)")
    huey = make_huey(GatewaySettings(huey_redis_url=url, huey_immediate=False))
    huey.flush()
    assert run_one(huey) == ["a", "b"]
    huey.flush()
