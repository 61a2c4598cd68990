"""The limiter on memory and on Redis: counting, Retry-After, hashed keys, failing open."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import cast

import pytest
import redis

from engine.abuse.limiter import Limiter

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


async def test_memory_counts_every_limit_and_tells_when_to_retry() -> None:
    limiter = Limiter()
    rule = "3/minute;5/hour"
    assert [await limiter.hit(rule, "t", "a") for _ in range(3)] == [None, None, None]
    refused = await limiter.hit(rule, "t", "a")
    assert refused is not None and 1 <= refused.retry_after <= 60
    assert refused.headers == {"Retry-After": str(refused.retry_after)}
    assert await limiter.hit(rule, "t", "b") is None  # another key has its own budget
    assert await limiter.hit(rule, "other", "a") is None  # and so has another limit name


async def test_exhausted_does_not_count() -> None:
    limiter = Limiter()
    for _ in range(5):
        assert await limiter.exhausted("2/minute", "t", "x") is None
    await limiter.hit("2/minute", "t", "x")
    await limiter.hit("2/minute", "t", "x")
    assert await limiter.exhausted("2/minute", "t", "x") is not None


async def test_the_hour_limit_holds_when_minutes_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = Limiter(strategy="fixed-window")
    rule = "2/minute;3/hour"
    now = [1_000_000.0]
    monkeypatch.setattr("time.time", lambda: now[0])
    assert await limiter.hit(rule, "t", "k") is None
    assert await limiter.hit(rule, "t", "k") is None
    assert await limiter.hit(rule, "t", "k") is not None  # the minute is used up
    now[0] += 61
    assert await limiter.hit(rule, "t", "k") is None  # a new minute: the third of the hour
    now[0] += 61
    refused = await limiter.hit(rule, "t", "k")
    assert refused is not None and refused.retry_after > 60  # the hour is used up


@pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_redis_is_shared_between_replicas_and_keys_are_hashed() -> None:
    sender = f"+4670{uuid.uuid4().int % 10**7:07d}"
    one, two = Limiter(storage_url=REDIS_URL), Limiter(storage_url=REDIS_URL)
    assert await one.hit("2/minute", "sender", "sms", sender) is None
    assert await two.hit("2/minute", "sender", "sms", sender) is None
    assert await one.hit("2/minute", "sender", "sms", sender) is not None  # counted across "replicas"
    keys = [k.decode() for k in cast(list[bytes], redis.Redis.from_url(REDIS_URL).keys("*"))]
    assert keys and not any(sender in key for key in keys)


async def test_a_broken_storage_fails_open(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    # An in-process `migrate` (Alembic's fileConfig) disables loggers that existed before it ran.
    monkeypatch.setattr(logging.getLogger("engine.abuse.limiter"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="engine.abuse.limiter")
    limiter = Limiter(storage_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert await limiter.hit("1/minute", "t", "k") is None
    assert await limiter.hit("1/minute", "t", "k") is None
    assert await limiter.exhausted("1/minute", "t", "k") is None
    assert "abuse.limiter_unavailable" in caplog.text


async def test_the_memory_storage_sweeps_expired_keys_but_not_on_every_hit() -> None:
    limiter = Limiter(strategy="fixed-window")
    storage = limiter.storage
    for n in range(200):
        await limiter.hit("5/second", "t", f"sender-{n}")
    await asyncio.sleep(0.05)  # the first hit's sweep ran; the others did not start one
    assert len(storage.storage) == 200  # type: ignore[attr-defined]
    await asyncio.sleep(1.1)  # every key's window is over, and a sweep is due again
    await limiter.hit("5/second", "t", "one-more")
    await asyncio.sleep(0.05)
    assert len(storage.storage) <= 1  # type: ignore[attr-defined]
