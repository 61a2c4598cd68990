"""Staff accounts and console sessions: argon2id passwords, opaque session tokens, login lockout
(people/auth/lockout.py: layered, growing per username+IP), password policy (people/auth/passwords.py).

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults) in a worker thread, so a
login never blocks the event loop. A session cookie carries a random token; the database keeps
only its SHA-256, so a leaked table cannot be replayed as a login.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from core.errors import RequestRefused
from locales.catalog import resolve_locale
from people.auth import lockout as lockout_keys
from people.auth import passwords
from people.auth.lockout import Lockout as Lockout  # re-exported: service.Lockout
from people.auth.models import Role, StaffSession, StaffUser

MIN_PASSWORD_CHARS = passwords.MIN_CHARS
MAX_PASSWORD_CHARS = passwords.MAX_CHARS
MAX_USERNAME_CHARS = 254
MAX_DISPLAY_NAME_CHARS = 200
SESSION_LIFETIME = timedelta(hours=12)

_hasher = PasswordHasher()  # argon2id, time_cost=3, memory_cost=64 MiB, parallelism=4
_dummy_hash: str | None = None


class AuthError(RequestRefused):
    """A staff-management request that cannot be done; `code` is the API's `detail`, `status` its HTTP status."""


class LockedOut(AuthError):
    """Login refused without checking the password (429); `retry_after` seconds until it may be tried."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("locked", 429)
        self.retry_after = retry_after


LOCKOUT = Lockout()


def normalize_username(username: str) -> str:
    return username.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def hash_password(*, password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(*, user: StaffUser, password: str) -> bool:
    """True when `password` is the user's. A hash made with older parameters is upgraded on
    success (the caller's commit stores it)."""
    if not await asyncio.to_thread(_verify, user.password_hash, password):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password=password)
    return True


async def _spend_a_verification(password: str) -> None:
    """Same work as checking a real account, so response time does not tell whether a username exists."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = await hash_password(password=secrets.token_urlsafe(16))
    await asyncio.to_thread(_verify, _dummy_hash, password)


async def get_user(*, session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def find_user(*, session: AsyncSession, username: str) -> StaffUser | None:
    return (await session.scalars(select(StaffUser).where(StaffUser.username == normalize_username(username)))).first()


async def create_user(
    *, session: AsyncSession, username: str, password: str, display_name: str, role: Role = Role.AGENT
) -> StaffUser:
    """Raises AuthError: invalid_username / invalid_display_name / weak_password (too short or long) /
    password_contains_username / password_too_common (422, people/auth/passwords.py), username_taken (409)."""
    username = normalize_username(username)
    display_name = display_name.strip()
    if not username or len(username) > MAX_USERNAME_CHARS or any(c.isspace() for c in username):
        raise AuthError("invalid_username", 422)
    if not display_name or len(display_name) > MAX_DISPLAY_NAME_CHARS:
        raise AuthError("invalid_display_name", 422)
    if (objection := passwords.problem(password=password, username=username)) is not None:
        raise AuthError(objection, 422)
    if await find_user(session=session, username=username) is not None:
        raise AuthError("username_taken", 409)
    user = StaffUser(
        username=username,
        display_name=display_name,
        password_hash=await hash_password(password=password),
        role=Role(role),
        active=True,
    )
    try:
        async with session.begin_nested():  # a concurrent insert of the same name loses only this savepoint
            session.add(user)
    except IntegrityError as exc:
        raise AuthError("username_taken", 409) from exc
    return user


async def authenticate(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    lockout: Lockout | None = None,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> StaffUser | None:
    """The active user with this username and password, else None. Raises LockedOut (AuthError
    "locked", 429) while the username is locked for this client IP or for everyone (the password
    is then not even checked). See people/auth/lockout.py for why the lock is layered."""
    lockout = LOCKOUT if lockout is None else lockout
    name = normalize_username(username)
    pair, wide = lockout_keys.keys(name, client_ip)
    wait = max(lockout.retry_after(pair, now), lockout.retry_after(wide, now) if wide else 0)
    if wait:
        raise LockedOut(wait)
    user = await find_user(session=session, username=name) if len(name) <= MAX_USERNAME_CHARS else None
    if user is None:
        await _spend_a_verification(password)
        ok = False
    else:
        ok = await verify_password(user=user, password=password) and user.active
    if not ok or user is None:
        lockout.failure(pair, now)
        if wide:
            lockout.failure(wide, now, max_failures=lockout.username_max_failures, grow=False)
        return None
    lockout.success(pair)
    return user


async def open_session(
    *, session: AsyncSession, user: StaffUser, lifetime: timedelta = SESSION_LIFETIME, now: datetime | None = None
) -> tuple[str, StaffSession]:
    """A new login for `user`; the returned token goes into the cookie and is never stored."""
    now = now or utcnow()
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id, StaffSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    staff_session = StaffSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(staff_session)
    await session.flush()
    return token, staff_session


async def session_user(
    *, session: AsyncSession, token: str, now: datetime | None = None
) -> tuple[StaffUser, StaffSession] | None:
    """The user behind a cookie token, or None when unknown, expired or the user was deactivated."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    row = (
        await session.execute(
            select(StaffUser, StaffSession)
            .join(StaffSession, StaffSession.user_id == StaffUser.id)
            .where(StaffSession.token_hash == token_hash(token))
        )
    ).first()
    if row is None:
        return None
    user, staff_session = row.tuple()
    if staff_session.expires_at <= now or not user.active:
        return None
    return user, staff_session


async def close_session(*, session: AsyncSession, token: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


async def touch(*, session: AsyncSession, user: StaffUser, now: datetime | None = None) -> None:
    """Presence: the queue counts staff seen recently as online (handoff.service.agents_online)."""
    user.last_seen_at = now or utcnow()
    await session.flush()


async def seen(*, session: AsyncSession, user_id: int) -> None:
    """Presence by id, without loading the user (the staff event stream, once a tick)."""
    await session.execute(update(StaffUser).where(StaffUser.id == user_id).values(last_seen_at=utcnow()))


async def list_users(*, session: AsyncSession) -> list[StaffUser]:
    return list((await session.scalars(select(StaffUser).order_by(StaffUser.username))).all())


async def deactivate(*, session: AsyncSession, user_id: int) -> StaffUser:
    """Ends every session of the user at once. Raises AuthError not_found (404), or last_admin (409)
    when it would leave nobody able to manage staff."""
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise AuthError("not_found", 404)
    if user.active and user.role == Role.ADMIN:
        admins = await session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == Role.ADMIN, StaffUser.active.is_(True), StaffUser.id != user.id)
        )
        if not admins:
            raise AuthError("last_admin", 409)
    user.active = False
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    await session.flush()
    return user


async def set_locale(*, session: AsyncSession, user: StaffUser, locale: str) -> str | None:
    """Save the staff member's page language; the supported code, or None (nothing saved) if unsupported."""
    chosen = resolve_locale(locale)
    if chosen is not None:
        user.locale = chosen
        await session.flush()
    return chosen
