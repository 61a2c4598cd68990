"""Console login lockout: online password guessing is slowed to a crawl, and locking someone
else out is made expensive.

A plain "5 failures lock the username for 15 minutes" stops guessing, but hands anyone who knows
a username a cheap way to keep its owner out forever: 5 wrong passwords every 15 minutes, and
growing the lock on each repeat only makes that cheaper. So the lock is layered by who fails:

1. Username + client IP: 5 failures (in 15 minutes) lock that username *for that IP*; every
   repeated lock of the same pair doubles (15 min, 30, 60 ... capped at a day), and is forgotten a
   day after the last one ends, or at the next success from there. One attacker gets slower and
   slower, while the owner, logging in from their own address, is not affected at all.
2. Username from all IPs together: 20 failures (in 15 minutes) lock the username for everyone,
   for the base 15 minutes only, never growing. Guessing from many addresses is capped at ~20
   tries per 15 minutes per account; keeping the owner out that way needs fresh addresses all the
   time (each one is locked out of the pair after 5 and for ever longer after that), not 5 requests.
3. Per client IP, whatever the username (RATE_LIMIT_LOGIN_IP, the shared limiter in abuse/): one
   address spraying passwords over many usernames is refused with 429 too_many_attempts.

Kept in process memory (no table; a restart clearing it is harmless, an attacker is slowed either
way); each gateway replica counts on its own, while layer 3 is shared through Redis when
configured. Unknown usernames are counted too, so lockout behaviour does not reveal which accounts
exist; the number of tracked keys is bounded so that guessing many names cannot exhaust memory.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from core.database import utcnow


class Lockout:
    def __init__(
        self,
        *,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=15),
        lock_for: timedelta = timedelta(minutes=15),
        max_lock: timedelta = timedelta(hours=24),
        username_max_failures: int = 20,
        max_tracked: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lock_for = lock_for
        self.max_lock = max(max_lock, lock_for)
        self.username_max_failures = username_max_failures
        self.forget_after = self.max_lock  # strikes end a day (the cap) after the last lock ends
        self.max_tracked = max_tracked
        self._failures: dict[str, deque[datetime]] = {}
        self._locked_until: dict[str, datetime] = {}
        self._strikes: dict[str, tuple[int, datetime]] = {}  # locks in a row, when the last one ends
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> Lockout:
        return cls(
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_window_minutes),
            lock_for=timedelta(minutes=settings.login_lock_minutes),
            max_lock=timedelta(minutes=settings.login_lock_max_minutes),
            username_max_failures=settings.login_username_max_failures,
        )

    def retry_after(self, key: str, now: datetime | None = None) -> int:
        """Seconds until `key` may try again (0: not locked)."""
        now = now or utcnow()
        with self._lock:
            until = self._locked_until.get(key)
            if until is None:
                return 0
            if until > now:
                return max(1, math.ceil((until - now).total_seconds()))
            del self._locked_until[key]
            return 0

    def locked(self, key: str, now: datetime | None = None) -> bool:
        return self.retry_after(key, now) > 0

    def failure(
        self, key: str, now: datetime | None = None, *, max_failures: int | None = None, grow: bool = True
    ) -> None:
        """One failed login for `key`; reaching the limit locks it (longer each time when `grow`)."""
        now = now or utcnow()
        limit = self.max_failures if max_failures is None else max_failures
        with self._lock:
            recent = self._failures.pop(key, None) or deque()
            recent.append(now)
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) >= limit:
                self._locked_until[key] = now + self._lock_time(key, now, grow)
                recent.clear()
            else:
                self._failures[key] = recent  # re-inserted: dict order is least recently failed first
            for tracked in (self._failures, self._locked_until, self._strikes):
                while len(tracked) > self.max_tracked:
                    del tracked[next(iter(tracked))]

    def _lock_time(self, key: str, now: datetime, grow: bool) -> timedelta:
        if not grow:
            return self.lock_for
        strikes, last_ends = self._strikes.pop(key, (0, now))
        if now - last_ends > self.forget_after:
            strikes = 0
        lock = min(self.lock_for * (1 << min(strikes, 32)), self.max_lock)  # doubles per strike
        self._strikes[key] = (strikes + 1, now + lock)
        return lock

    def success(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._strikes.pop(key, None)


def keys(username: str, client_ip: str | None) -> tuple[str, str | None]:
    """(the username+IP key that grows, the username-wide key); without an IP, the username alone."""
    if not client_ip:
        return username, None
    return f"{username}\x1f{client_ip}", f"{username}\x1f*"
