"""Login lockout layers: per username+IP with a growing lock, per username from all IPs (fixed),
and why an attacker cannot cheaply keep the owner out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from core.database import utcnow
from people.auth import service
from people.auth.lockout import Lockout, keys
from people.auth.models import StaffUser

PASSWORD = "correct horse battery"
ATTACKER, OWNER = "198.51.100.66", "192.0.2.10"


def lock_minutes(lockout: Lockout, key: str, at: object) -> float:
    return lockout.retry_after(key, at) / 60  # type: ignore[arg-type]


def test_each_repeated_lock_of_a_pair_doubles_up_to_the_cap() -> None:
    lockout = Lockout(max_failures=5, lock_for=timedelta(minutes=15), max_lock=timedelta(hours=2))
    now = utcnow()
    seen = []
    for _ in range(6):
        for _ in range(5):
            lockout.failure("pair", now)
        seen.append(round(lock_minutes(lockout, "pair", now)))
        now += timedelta(seconds=lockout.retry_after("pair", now) + 1)  # wait it out, then fail again
    assert seen == [15, 30, 60, 120, 120, 120]


def test_the_growth_is_forgotten_after_a_quiet_day_or_a_success() -> None:
    lockout = Lockout()
    now = utcnow()
    for _ in range(2):
        for _ in range(5):
            lockout.failure("pair", now)
        now += timedelta(seconds=lockout.retry_after("pair", now) + 1)
    for _ in range(5):
        lockout.failure("pair", now + timedelta(hours=25))
    assert round(lock_minutes(lockout, "pair", now + timedelta(hours=25))) == 15
    for _ in range(5):
        lockout.failure("other", now)
    lockout.success("other")
    now += timedelta(minutes=16)
    for _ in range(5):
        lockout.failure("other", now)
    assert round(lock_minutes(lockout, "other", now)) == 15


def test_a_username_wide_lock_never_grows() -> None:
    lockout = Lockout(username_max_failures=20)
    now = utcnow()
    for _ in range(3):
        for _ in range(20):
            lockout.failure("name\x1f*", now, max_failures=lockout.username_max_failures, grow=False)
        assert round(lock_minutes(lockout, "name\x1f*", now)) == 15
        now += timedelta(minutes=16)


def test_from_settings() -> None:
    settings = GatewaySettings(
        login_max_failures=3, login_window_minutes=5, login_lock_minutes=2, login_lock_max_minutes=8,
        login_username_max_failures=9,
    )  # fmt: skip
    lockout = Lockout.from_settings(settings)
    assert (lockout.max_failures, lockout.window, lockout.lock_for, lockout.max_lock, lockout.username_max_failures) == (
        3, timedelta(minutes=5), timedelta(minutes=2), timedelta(minutes=8), 9,
    )  # fmt: skip
    assert keys("a@x.org", None) == ("a@x.org", None)
    assert keys("a@x.org", "192.0.2.1") == ("a@x.org\x1f192.0.2.1", "a@x.org\x1f*")


async def test_an_attacker_locks_only_themselves_out(session: AsyncSession) -> None:
    lockout = Lockout()
    user = await service.create_user(session=session, username="owner@example.org", password=PASSWORD, display_name="O")
    now = utcnow()

    async def attempt(ip: str, password: str, at: timedelta = timedelta()) -> StaffUser | None:
        return await service.authenticate(
            session=session, username=user.username, password=password, lockout=lockout, client_ip=ip, now=now + at
        )

    for _ in range(5):
        assert await attempt(ATTACKER, "guess guess guess") is None
    with pytest.raises(service.LockedOut) as locked:
        await attempt(ATTACKER, PASSWORD)  # even the right password, from there
    assert (locked.value.code, locked.value.status) == ("locked", 429) and locked.value.retry_after == 15 * 60
    assert await attempt(OWNER, PASSWORD) is user  # the owner, elsewhere, is not affected
    # A second round, once the first lock is over, locks the attacker twice as long.
    for _ in range(5):
        assert await attempt(ATTACKER, "guess again guess", timedelta(minutes=16)) is None
    with pytest.raises(service.LockedOut) as longer:
        await attempt(ATTACKER, PASSWORD, timedelta(minutes=16))
    assert longer.value.retry_after == 30 * 60


async def test_guessing_from_many_addresses_locks_the_username_for_a_while(session: AsyncSession) -> None:
    lockout = Lockout(username_max_failures=8)
    user = await service.create_user(
        session=session, username="target@example.org", password=PASSWORD, display_name="T"
    )
    now = utcnow()
    for n in range(8):  # 8 addresses, one guess each: none of them reaches its own 5
        assert await service.authenticate(
            session=session, username=user.username, password="nope nope nope", lockout=lockout,
            client_ip=f"203.0.113.{n}", now=now,
        ) is None  # fmt: skip
    with pytest.raises(service.LockedOut) as locked:
        await service.authenticate(
            session=session, username=user.username, password=PASSWORD, lockout=lockout, client_ip=OWNER, now=now
        )
    assert locked.value.retry_after == 15 * 60  # the base time, never growing
    found = await service.authenticate(
        session=session, username=user.username, password=PASSWORD, lockout=lockout, client_ip=OWNER,
        now=now + timedelta(minutes=16),
    )  # fmt: skip
    assert found is user
