"""Agent console login, logout and staff management (JSON API under /agent/api).

Login needs no CSRF token: it only accepts `Content-Type: application/json` (anything else is a
415). A cross-site HTML form can only send urlencoded, multipart or text/plain bodies, and a
cross-site script sending JSON needs a CORS preflight, which this gateway never grants. Every
other state-changing route needs the session's CSRF token (app/deps.py).

Guessing is limited three ways (people/auth/lockout.py says why): per username and client IP (a lock
that grows), per username from all IPs, and per client IP whatever the username (429
too_many_attempts, RATE_LIMIT_LOGIN_IP). Every 429 carries Retry-After.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from core.config import CoreSettings
from core.deps import SessionDep, SettingsDep, settings_of
from core.errors import refusals
from engine.abuse import guard
from engine.abuse.config import AbuseSettings
from people.auth import service
from people.auth.deps import (
    STAFF_COOKIE,
    STAFF_COOKIE_PATH,
    AdminDep,
    AdminWriteDep,
    StaffDep,
    StaffSessionDep,
    StaffWriteDep,
)
from people.auth.models import Role, StaffUser

router = APIRouter(prefix="/agent/api", tags=["agent-auth"])

UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]  # a 32-bit key: larger values are a 422, not a driver error


def _json_only(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(status_code=415, detail="unsupported_media_type")


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=service.MAX_USERNAME_CHARS)
    password: str = Field(min_length=1, max_length=service.MAX_PASSWORD_CHARS)


class StaffIn(BaseModel):
    username: str = Field(min_length=1, max_length=service.MAX_USERNAME_CHARS)
    # Length rules are the service's (a clear "weak_password" instead of a generic validation error).
    password: str = Field(max_length=service.MAX_PASSWORD_CHARS)
    display_name: str = Field(min_length=1, max_length=service.MAX_DISPLAY_NAME_CHARS)
    role: Role = Role.AGENT


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    locale: str | None = None

    @classmethod
    def of(cls, user: StaffUser) -> UserOut:
        return cls(
            id=user.id, username=user.username, display_name=user.display_name, role=user.role, locale=user.locale
        )


class LocaleIn(BaseModel):
    locale: str = Field(min_length=2, max_length=16)


class StaffOut(UserOut):
    active: bool
    created_at: datetime
    last_seen_at: datetime | None

    @classmethod
    def of(cls, user: StaffUser) -> StaffOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            active=user.active,
            created_at=user.created_at,
            last_seen_at=user.last_seen_at,
        )


class Me(BaseModel):
    csrf_token: str  # send back as the X-CSRF-Token header on every POST
    user: UserOut


class StaffList(BaseModel):
    items: list[StaffOut]


# The login limits and lockout (LOGIN_*, RATE_LIMIT_LOGIN_IP) are the abuse settings' part.
LimitsDep = Annotated[AbuseSettings, Depends(settings_of(AbuseSettings))]


def _lockout(request: Request, settings: AbuseSettings) -> service.Lockout:
    """One lockout per gateway app, configured from its settings (LOGIN_*)."""
    lockout = getattr(request.app.state, "login_lockout", None)
    if lockout is None:
        lockout = request.app.state.login_lockout = service.Lockout.from_settings(settings)
    return lockout


def session_lifetime(settings: CoreSettings) -> timedelta:
    return timedelta(hours=settings.staff_session_hours)


def _secure(settings: CoreSettings) -> bool:
    return settings.public_base_url.lower().startswith("https")


@router.post("/login", response_model=Me, dependencies=[Depends(_json_only)], responses=refusals(401, 415, 429))
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep, limits: LimitsDep
) -> Me:
    """429 `locked` (this username, for this IP or for everyone) or `too_many_attempts` (this IP),
    with Retry-After; 401 invalid_credentials."""
    ip, limiter = guard.ip_of(request), guard.limiter_for(request.app)
    per_ip = limits.rate_limit_login_ip if limits.rate_limit_enabled else None
    if per_ip and (refusal := await limiter.exhausted(per_ip, "login-ip", ip)) is not None:
        raise HTTPException(status_code=429, detail="too_many_attempts", headers=refusal.headers)
    try:
        user = await service.authenticate(
            session=session,
            username=body.username,
            password=body.password,
            lockout=_lockout(request, limits),
            client_ip=ip,
        )
    except service.LockedOut as exc:
        raise HTTPException(status_code=429, detail=exc.code, headers={"Retry-After": str(exc.retry_after)}) from exc
    except service.AuthError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.code) from exc
    if user is None:
        if per_ip:
            await limiter.hit(per_ip, "login-ip", ip)
        raise HTTPException(status_code=401, detail="invalid_credentials")
    lifetime = session_lifetime(settings)
    token, staff_session = await service.open_session(session=session, user=user, lifetime=lifetime)
    await service.touch(session=session, user=user)
    await session.commit()
    response.set_cookie(
        STAFF_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path=STAFF_COOKIE_PATH,
        secure=_secure(settings),
        httponly=True,
        samesite="strict",
    )
    return Me(csrf_token=staff_session.csrf_token, user=UserOut.of(user))


@router.post("/logout", status_code=204, response_class=Response)
async def logout(request: Request, _user: StaffWriteDep, session: SessionDep, settings: SettingsDep) -> Response:
    await service.close_session(session=session, token=request.cookies.get(STAFF_COOKIE, ""))
    await session.commit()
    response = Response(status_code=204)
    response.delete_cookie(
        STAFF_COOKIE, path=STAFF_COOKIE_PATH, secure=_secure(settings), httponly=True, samesite="strict"
    )
    return response


@router.get("/me", response_model=Me)
async def me(user: StaffDep, staff_session: StaffSessionDep) -> Me:
    return Me(csrf_token=staff_session.csrf_token, user=UserOut.of(user))


@router.post("/me/locale", response_model=UserOut, responses=refusals(422))
async def set_locale(body: LocaleIn, user: StaffWriteDep, session: SessionDep) -> UserOut:
    """The staff member's language for the console and admin pages (one of the supported locales)."""
    if await service.set_locale(session=session, user=user, locale=body.locale) is None:
        raise HTTPException(status_code=422, detail="unsupported_locale")
    await session.commit()
    return UserOut.of(user)


@router.get("/staff", response_model=StaffList)
async def staff(_admin: AdminDep, session: SessionDep) -> StaffList:
    return StaffList(items=[StaffOut.of(user) for user in await service.list_users(session=session)])


@router.post("/staff", response_model=StaffOut, status_code=201, responses=refusals(409, 422))
async def create_staff(body: StaffIn, _admin: AdminWriteDep, session: SessionDep) -> StaffOut:
    try:
        user = await service.create_user(
            session=session,
            username=body.username,
            password=body.password,
            display_name=body.display_name,
            role=body.role,
        )
    except service.AuthError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.code) from exc
    await session.commit()
    return StaffOut.of(user)


@router.post("/staff/{user_id}/deactivate", response_model=StaffOut, responses=refusals(404, 409))
async def deactivate_staff(user_id: UserId, _admin: AdminWriteDep, session: SessionDep) -> StaffOut:
    try:
        user = await service.deactivate(session=session, user_id=user_id)
    except service.AuthError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.code) from exc
    await session.commit()
    return StaffOut.of(user)
