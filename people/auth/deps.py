"""Staff (agent console) authentication as FastAPI dependencies.

The `da_staff` cookie carries an opaque session token (people/auth/service.py). `StaffDep`/`AdminDep`
guard reads; `StaffWriteDep`/`AdminWriteDep` guard state-changing requests and also require the
session's CSRF token in the `X-CSRF-Token` header. Checks run in this order: logged in
(401 not_authenticated), role (403 forbidden), CSRF (403 csrf)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from core.deps import SessionDep
from people.auth import service as auth_service
from people.auth.models import Role, StaffSession, StaffUser

STAFF_COOKIE = "da_staff"
STAFF_COOKIE_PATH = "/agent"
CSRF_HEADER = "X-CSRF-Token"


async def _staff_login(conn: HTTPConnection, session: SessionDep) -> tuple[StaffUser, StaffSession]:
    token = conn.cookies.get(STAFF_COOKIE)
    found = await auth_service.session_user(session=session, token=token) if token else None
    if found is None:
        raise HTTPException(status_code=401, detail="not_authenticated")
    return found


StaffLoginDep = Annotated[tuple[StaffUser, StaffSession], Depends(_staff_login)]


def _staff(login: StaffLoginDep) -> StaffUser:
    return login[0]


def _staff_session(login: StaffLoginDep) -> StaffSession:
    return login[1]


def _admin(login: StaffLoginDep) -> StaffUser:
    user = login[0]
    if user.role != Role.ADMIN:
        raise HTTPException(status_code=403, detail="forbidden")
    return user


def _check_csrf(conn: HTTPConnection, staff_session: StaffSession) -> None:
    sent = conn.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), staff_session.csrf_token.encode()):
        raise HTTPException(status_code=403, detail="csrf")


def _staff_write(conn: HTTPConnection, login: StaffLoginDep) -> StaffUser:
    _check_csrf(conn, login[1])
    return login[0]


def _admin_write(conn: HTTPConnection, login: StaffLoginDep, admin: Annotated[StaffUser, Depends(_admin)]) -> StaffUser:
    _check_csrf(conn, login[1])
    return admin


# Any logged-in, active staff member (agent or admin); anonymous -> 401.
StaffDep = Annotated[StaffUser, Depends(_staff)]
# Role admin; an agent -> 403 forbidden.
AdminDep = Annotated[StaffUser, Depends(_admin)]
# As StaffDep/AdminDep, plus the CSRF header (403 csrf): use on every POST/PUT/PATCH/DELETE.
StaffWriteDep = Annotated[StaffUser, Depends(_staff_write)]
AdminWriteDep = Annotated[StaffUser, Depends(_admin_write)]
# The current console session (csrf_token, expires_at); same checks as StaffDep.
StaffSessionDep = Annotated[StaffSession, Depends(_staff_session)]
