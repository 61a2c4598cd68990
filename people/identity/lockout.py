"""The two lockout counters, replayed from the stored attempts (the log is the state).

- Per claimed reference, across every conversation and channel: three failures lock the
  reference, for 30 minutes, then 2 hours, then 24 hours for each further lock within a week.
  Only a success on that same reference clears its failures (and its lock history).
- Per conversation: three failures, whatever references they were on, lock the conversation's
  verification (same growing durations). A success clears only the conversation's failures on
  the reference it verified: succeeding with one's own details never clears guesses made on
  someone else's reference.

A failure counts for a day; a lock is remembered for a week. References that do not exist are
counted exactly like those that do, so a lock says nothing about whether a reference is real.
Which counter a person may be told about is the caller's business (people/identity/service.py): only
the conversation's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

MAX_FAILURES = 3
# The lock after the 1st, 2nd, 3rd (and every later) series of three failures.
LOCK_STEPS = (timedelta(minutes=30), timedelta(hours=2), timedelta(hours=24))
FAILURE_WINDOW = timedelta(days=1)  # a failure older than this no longer counts
LOOKBACK = timedelta(days=7)  # how long earlier locks make the next one longer


class Attempt(Protocol):
    @property
    def claimed_reference(self) -> str | None: ...
    @property
    def success(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class Counter:
    failures: int
    locked_until: datetime | None
    locks: int  # locks within the lookback (the next one lasts LOCK_STEPS[locks])

    @property
    def remaining(self) -> int:
        return 0 if self.locked_until else MAX_FAILURES - self.failures


def lock_duration(previous_locks: int) -> timedelta:
    return LOCK_STEPS[min(previous_locks, len(LOCK_STEPS) - 1)]


def replay(attempts: Iterable[Attempt], *, now: datetime, per_conversation: bool) -> Counter:
    """The counter after `attempts` (oldest first, one reference's or one conversation's).

    Failures made while a lock was on are not counted again (the details were not even checked).
    A success clears the failures on its own reference only, and (per reference) the lock history.
    """
    pending: list[tuple[datetime, str | None]] = []
    locked_until: datetime | None = None
    locks = 0
    for attempt in attempts:
        at, reference = attempt.created_at, attempt.claimed_reference
        if attempt.success:
            pending = [p for p in pending if p[1] != reference]
            if not per_conversation:
                locks = 0
            continue
        if locked_until and at < locked_until:
            continue
        pending = [p for p in pending if p[0] > at - FAILURE_WINDOW] + [(at, reference)]
        if len(pending) >= MAX_FAILURES:
            locked_until, pending = at + lock_duration(locks), []
            locks += 1
    if locked_until and locked_until > now:
        return Counter(failures=0, locked_until=locked_until, locks=locks)
    failures = sum(1 for at, _ in pending if at > now - FAILURE_WINDOW)
    return Counter(failures=failures, locked_until=None, locks=locks)
