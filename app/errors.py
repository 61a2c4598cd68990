"""What every feature's API shares: a refused request (its `code` is the response's `detail`, its
`status` the HTTP status), and committing one change in the request's session."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from fastapi import HTTPException
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
