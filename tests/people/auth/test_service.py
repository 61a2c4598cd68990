"""Staff accounts: argon2id hashing, login refusals and lockout, console sessions, deactivation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from handoff import service as handoff_service
from people.auth import service
from people.auth.models import Role, StaffSession, StaffUser

PASSWORD = "correct horse battery"


async def make_user(
    session: AsyncSession, username: str = "agent@example.org", role: Role = Role.AGENT, password: str = PASSWORD
) -> StaffUser:
    return await service.create_user(
        session=session, username=username, password=password, display_name="Agent Smith", role=role
    )


async def test_passwords_are_argon2id_and_verify() -> None:
    hashed = await service.hash_password(password=PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    user = StaffUser(username="x", display_name="x", password_hash=hashed)
    assert await service.verify_password(user=user, password=PASSWORD)
    assert not await service.verify_password(user=user, password=PASSWORD + "!")
    assert not await service.verify_password(user=StaffUser(password_hash="not-a-hash"), password=PASSWORD)


async def test_a_hash_with_old_parameters_is_upgraded_on_a_successful_check() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user = StaffUser(username="x", display_name="x", password_hash=weak)
    assert not await service.verify_password(user=user, password="wrong password!")
    assert user.password_hash == weak  # a wrong password changes nothing
    assert await service.verify_password(user=user, password=PASSWORD)
    assert user.password_hash != weak and not PasswordHasher().check_needs_rehash(user.password_hash)
    assert await service.verify_password(user=user, password=PASSWORD)


async def test_usernames_are_normalised_and_unique(session: AsyncSession) -> None:
    user = await make_user(session, username="  Alice@Example.ORG ")
    assert user.id and user.username == "alice@example.org" and user.role == Role.AGENT and user.active
    with pytest.raises(service.AuthError) as taken:
        await make_user(session, username="ALICE@example.org")
    assert (taken.value.code, taken.value.status) == ("username_taken", 409)
    assert await service.find_user(session=session, username="alice@EXAMPLE.org") is user


async def test_a_concurrent_duplicate_is_refused_and_the_session_stays_usable(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user(session, username="race@example.org")

    async def not_found(**_: object) -> None:
        return None  # as if the other insert had not committed when we looked

    monkeypatch.setattr(service, "find_user", not_found)
    with pytest.raises(service.AuthError) as taken:
        await make_user(session, username="race@example.org")
    assert taken.value.code == "username_taken"
    monkeypatch.undo()
    assert (await make_user(session, username="other@example.org")).id
    names = set(await session.scalars(select(StaffUser.username)))
    assert {"race@example.org", "other@example.org"} <= names


@pytest.mark.parametrize(
    ("username", "password", "display_name", "code"),
    [
        ("short@example.org", "x" * 11, "Short", "weak_password"),
        ("long@example.org", "x" * (service.MAX_PASSWORD_CHARS + 1), "Long", "weak_password"),
        ("   ", PASSWORD, "Blank", "invalid_username"),
        ("two words", PASSWORD, "Space", "invalid_username"),
        ("noname@example.org", PASSWORD, "  ", "invalid_display_name"),
    ],
)
async def test_invalid_accounts_are_refused(
    session: AsyncSession, username: str, password: str, display_name: str, code: str
) -> None:
    with pytest.raises(service.AuthError) as refused:
        await service.create_user(session=session, username=username, password=password, display_name=display_name)
    assert (refused.value.code, refused.value.status) == (code, 422)


async def test_twelve_characters_are_enough(session: AsyncSession) -> None:
    assert (await make_user(session, username="twelve@example.org", password="x" * 12)).id


async def test_authenticate(session: AsyncSession) -> None:
    lockout = service.Lockout()
    user = await make_user(session)
    found = await service.authenticate(
        session=session, username=" AGENT@example.org", password=PASSWORD, lockout=lockout
    )
    assert found is user
    assert await service.authenticate(session=session, username=user.username, password="nope", lockout=lockout) is None
    assert (
        await service.authenticate(session=session, username="nobody@x.org", password=PASSWORD, lockout=lockout) is None
    )
    user.active = False
    assert (
        await service.authenticate(session=session, username=user.username, password=PASSWORD, lockout=lockout) is None
    )


async def test_an_unknown_username_costs_a_password_check_too(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    verify = service._verify

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return verify(password_hash, password)

    monkeypatch.setattr(service, "_verify", counting)
    lockout = service.Lockout()
    assert (
        await service.authenticate(session=session, username="ghost@x.org", password=PASSWORD, lockout=lockout) is None
    )
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")


async def test_five_failures_lock_the_username_for_fifteen_minutes(session: AsyncSession) -> None:
    lockout = service.Lockout()
    user = await make_user(session)
    now = utcnow()
    for minute in range(5):
        at = now + timedelta(minutes=minute)
        assert await service.authenticate(
            session=session, username=user.username, password="wrong", lockout=lockout, now=at
        ) is None  # fmt: skip
    for later in (timedelta(minutes=5), timedelta(minutes=18)):  # even the right password is refused
        with pytest.raises(service.AuthError) as locked:
            await service.authenticate(
                session=session, username=user.username.upper(), password=PASSWORD, lockout=lockout, now=now + later
            )
        assert (locked.value.code, locked.value.status) == ("locked", 429)
    assert await service.authenticate(
        session=session, username=user.username, password=PASSWORD, lockout=lockout, now=now + timedelta(minutes=20)
    ) is user  # fmt: skip


async def test_failures_spread_out_or_followed_by_a_success_do_not_lock(session: AsyncSession) -> None:
    lockout = service.Lockout()
    user = await make_user(session)
    now = utcnow()

    async def fail(at: timedelta) -> None:
        assert await service.authenticate(
            session=session, username=user.username, password="wrong", lockout=lockout, now=now + at
        ) is None  # fmt: skip

    for minute in range(4):
        await fail(timedelta(minutes=minute))
    await fail(timedelta(minutes=16))  # the first failure is out of the 15 minute window now
    assert await service.authenticate(session=session, username=user.username, password=PASSWORD, lockout=lockout)
    for minute in range(4):  # a success starts the count again
        await fail(timedelta(minutes=17 + minute))
    assert not lockout.locked(user.username, now + timedelta(minutes=21))


def test_unknown_names_count_too_and_tracking_is_bounded() -> None:
    lockout = service.Lockout(max_failures=2, max_tracked=3)
    now = utcnow()
    lockout.failure("ghost", now)
    lockout.failure("ghost", now)
    assert lockout.locked("ghost", now) and not lockout.locked("ghost", now + timedelta(minutes=16))
    for n in range(10):
        lockout.failure(f"name-{n}", now)
    assert len(lockout._failures) <= 3 and len(lockout._locked_until) <= 3


async def test_sessions_store_only_a_hash_and_expire(session: AsyncSession) -> None:
    user = await make_user(session)
    now = utcnow()
    token, staff_session = await service.open_session(session=session, user=user, now=now)
    assert staff_session.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert len(token) >= 43 and staff_session.csrf_token and staff_session.csrf_token != token
    assert staff_session.expires_at - now == timedelta(hours=12)
    stored = await session.scalar(select(StaffSession).where(StaffSession.user_id == user.id))
    assert stored is not None and token not in (stored.token_hash, stored.csrf_token)

    assert await service.session_user(session=session, token=token, now=now) == (user, staff_session)
    assert await service.session_user(session=session, token=token + "x", now=now) is None
    assert await service.session_user(session=session, token="", now=now) is None
    assert await service.session_user(session=session, token=token, now=now + timedelta(hours=12)) is None

    short, _ = await service.open_session(session=session, user=user, lifetime=timedelta(minutes=5), now=now)
    assert await service.session_user(session=session, token=short, now=now + timedelta(minutes=4))
    assert await service.session_user(session=session, token=short, now=now + timedelta(minutes=5)) is None

    await service.close_session(session=session, token=token)
    assert await service.session_user(session=session, token=token, now=now) is None


async def test_a_new_login_clears_the_users_expired_sessions(session: AsyncSession) -> None:
    user = await make_user(session)
    old = utcnow() - timedelta(days=2)
    await service.open_session(session=session, user=user, now=old)
    await service.open_session(session=session, user=user)
    sessions = list(await session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)))
    assert len(sessions) == 1 and sessions[0].expires_at > utcnow()


async def test_deactivation_ends_sessions_and_keeps_one_admin(session: AsyncSession) -> None:
    admin = await make_user(session, username="admin@example.org", role=Role.ADMIN)
    agent = await make_user(session)
    token, _ = await service.open_session(session=session, user=agent)
    assert await service.session_user(session=session, token=token)

    assert (await service.deactivate(session=session, user_id=agent.id)) is agent and not agent.active
    assert await service.session_user(session=session, token=token) is None
    assert await session.scalar(select(StaffSession).where(StaffSession.user_id == agent.id)) is None
    assert await service.deactivate(session=session, user_id=agent.id) is agent  # again: no error

    with pytest.raises(service.AuthError) as last:
        await service.deactivate(session=session, user_id=admin.id)
    assert (last.value.code, last.value.status) == ("last_admin", 409)
    await make_user(session, username="second-admin@example.org", role=Role.ADMIN)
    assert not (await service.deactivate(session=session, user_id=admin.id)).active

    with pytest.raises(service.AuthError) as missing:
        await service.deactivate(session=session, user_id=10**6)
    assert (missing.value.code, missing.value.status) == ("not_found", 404)


async def test_touch_makes_the_agent_count_as_online(session: AsyncSession) -> None:
    user = await make_user(session)
    before = await handoff_service.agents_online(session=session)
    await service.touch(session=session, user=user)
    assert user.last_seen_at is not None
    assert await handoff_service.agents_online(session=session) == before + 1


async def test_list_users_by_username(session: AsyncSession) -> None:
    await make_user(session, username="zed@example.org")
    await make_user(session, username="amy@example.org")
    names = [user.username for user in await service.list_users(session=session)]
    assert names == sorted(names) and {"amy@example.org", "zed@example.org"} <= set(names)
