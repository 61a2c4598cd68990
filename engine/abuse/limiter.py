"""Rate limits on the `limits` package: in process memory by default (embedded), Redis when
RATE_LIMIT_STORAGE_URL names one (several gateway replicas then share the counts).

Keys are hashed before they are stored: phone numbers, chat ids and IPs never sit in Redis or in
a memory dump in the clear. When the storage fails (Redis down) a limit lets the request through
and logs it: a broken counter must not take the whole gateway's inbound traffic down with it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.storage import storage_from_string

log = logging.getLogger(__name__)
STRATEGIES: dict[str, type[RateLimiter]] = {
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
    "fixed-window": FixedWindowRateLimiter,
    "moving-window": MovingWindowRateLimiter,
}


@dataclass(frozen=True)
class Refusal:
    """Over a limit: try again in `retry_after` seconds (the Retry-After header)."""

    retry_after: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@lru_cache(maxsize=64)
def _items(rule: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(rule))


class SweepingMemoryStorage(MemoryStorage):
    """limits' async memory storage, sweeping expired keys at most once a second. The stock one
    sweeps every key after every hit (15 ms per hit with 20 000 tracked senders); expired keys
    are dropped on access anyway, so sweeping less only frees their memory a little later."""

    STORAGE_SCHEME = ["async+sweeping-memory"]  # its own scheme: "async+memory" stays the stock one
    SWEEP_EVERY_SECONDS = 1.0

    def __init__(self, uri: str | None = None, **options: Any) -> None:
        super().__init__(uri, **options)
        self._last_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # the stock storage's private hook
        now = time.monotonic()
        if now - self._last_sweep >= self.SWEEP_EVERY_SECONDS:
            self._last_sweep = now
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


def _storage_uri(url: str) -> tuple[str, dict[str, str]]:
    """memory:// and redis://… as the async storages of `limits` (redis-py, already a dependency)."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.removeprefix("async+")
    options = {"implementation": "redispy"} if scheme.startswith("redis") else {}
    return f"async+{scheme}://{rest}", options


def _hashed(parts: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class Limiter:
    """One per gateway app (app.state, see engine/abuse/guard.py); `rule` is a setting's value."""

    def __init__(self, *, storage_url: str = "memory://", strategy: str = "sliding-window-counter") -> None:
        uri, options = _storage_uri(storage_url)
        if uri.startswith("async+memory:"):
            self.storage: Storage = SweepingMemoryStorage(wrap_exceptions=True)
        else:
            self.storage = cast(Storage, storage_from_string(uri, wrap_exceptions=True, **options))
        self.strategy = STRATEGIES[strategy](self.storage)

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self.strategy.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, rule: str, name: str, *key: str) -> Refusal | None:
        """Count one event against every limit of `rule`; a Refusal when one of them is used up."""
        return await self._check(rule, name, key, count=True)

    async def exhausted(self, rule: str, name: str, *key: str) -> Refusal | None:
        """Like `hit` without counting: is one of the limits already used up?"""
        return await self._check(rule, name, key, count=False)

    async def _check(self, rule: str, name: str, key: tuple[str, ...], *, count: bool) -> Refusal | None:
        hashed = _hashed((name, *key))
        probe = self.strategy.hit if count else self.strategy.test
        try:
            for item in _items(rule):
                if not await probe(item, name, hashed):
                    return Refusal(await self._retry_after(item, name, hashed))
        except Exception as exc:
            log.warning("abuse.limiter_unavailable", extra={"limit": name, "error": type(exc).__name__})
        return None

    async def reset(self) -> None:
        await self.storage.reset()
