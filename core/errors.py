"""What every feature's API shares: a refused request (its `code` is the response's `detail`, its
`status` the HTTP status), committing one change in the request's session, and how refusals are
documented in the OpenAPI schema (`refusals(...)`)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class RequestRefused(Exception):
    """Base of the features' errors (HandoffError, DisputeError, TrainingError, ...)."""

    default_status = 409

    def __init__(self, code: str, status: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = self.default_status if status is None else status


async def commit_or_refuse(session: AsyncSession, work: Awaitable[T]) -> T:
    """Run one change in the request's session (the one the login check opened: on SQLite it
    already holds the write lock, so a second session would wait on it) and commit it before
    anything talks to Rasa or a channel. A refusal rolls back and becomes its HTTP status."""
    try:
        result = await work
    except RequestRefused as exc:
        await session.rollback()
        raise HTTPException(status_code=exc.status, detail=exc.code) from exc
    await session.commit()
    return result


# -- how refusals look in the OpenAPI schema (documented per route with FastAPI `responses=`) --


class Refusal(BaseModel):
    """Every refusal: `{"detail": "<code>"}`, or with specifics `{"detail": {"code": ..., ...}}`."""

    detail: str | dict[str, Any]


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Invalid(BaseModel):
    """422: FastAPI's validation errors (a list), or a feature's own code like Refusal."""

    detail: list[ValidationIssue] | str | dict[str, Any]


REASONS = {
    400: "Malformed request (e.g. a body that is not UTF-8 JSON, or a provider payload that does not parse)",
    401: "not_authenticated: no valid console session (cookie `da_staff`), or wrong credentials",
    403: "forbidden (role), csrf (missing or wrong X-CSRF-Token), or a signature/secret that does not match",
    404: "not_found: no such resource (or the feature is not configured)",
    409: "Conflict with the current state (the detail says which)",
    413: "Request body too large",
    415: "unsupported_media_type",
    422: "Invalid input: validation errors, or the feature's code",
    429: "Too many attempts: try again later",
    502: "An upstream service (Rasa) answered with an error",
    503: "An upstream service (Rasa, the trainer) is unavailable",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the refusals a route really gives (the fuzzer holds every route to them)."""
    return {
        status: {"model": Invalid if status == 422 else Refusal, "description": REASONS[status]} for status in statuses
    }


async def database_busy(request: Request, exc: Exception) -> Response:
    """SQLite's single writer stayed busy past its timeout (an overload burst): 503 with
    Retry-After, which providers (Stripe, Twilio, Telegram) and browsers retry, instead of a 500.
    Any other database error is still a bug and stays a 500."""
    if isinstance(exc, OperationalError) and "database is locked" in str(exc):
        return JSONResponse({"detail": "busy"}, status_code=503, headers={"Retry-After": "2"})
    raise exc
