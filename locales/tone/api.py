"""Shared pieces of the texts-and-tone admin API (views.py, settings_views.py).

Reads come straight from the database (the page shows exactly what is stored); after every change
this process's catalog is refreshed at once, other processes within a second (locales/tone/overrides.py).
Refusals are `{"detail": "<code>"}` or, with specifics, `{"detail": {"code": ..., ...}}`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Path, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import Catalog
from locales.tone import service
from locales.tone.models import TextVersion, ToneDefaultVersion
from locales.tone.overrides import ensure_attached
from people.auth.models import StaffUser

T = TypeVar("T")

Locale = Annotated[str, Path(min_length=2, max_length=8, pattern=r"^[A-Za-z-]+$")]
Key = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
Tone = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[a-z]+$")]
Segment = Annotated[str, Path(min_length=1, max_length=32)]
VersionId = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def commit_change(request: Request, session: AsyncSession, catalog: Catalog, work: Awaitable[T]) -> T:
    """Run one change in the request's session (on SQLite it holds the write lock), commit, and
    make it live in this process at once."""
    try:
        result = await work
    except service.ToneError as exc:
        await session.rollback()
        raise refusal(exc) from exc
    await session.commit()
    ensure_attached(catalog, request.app.state.sessionmaker)
    await catalog.refresh(force=True)
    return result


def refusal(exc: service.ToneError) -> HTTPException:
    return HTTPException(status_code=exc.status, detail=exc.detail)


async def author_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(wanted)))
    return dict(rows.tuples().all())


def version_json(v: TextVersion | ToneDefaultVersion, authors: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id, "locale": v.locale, "action": v.action.value, "restored_from_id": v.restored_from_id,
        "author": authors.get(v.author_id or 0), "created_at": v.created_at.isoformat(), "tone": v.tone,
    }  # fmt: skip
    if isinstance(v, TextVersion):
        out.update(key=v.key, text=v.text, buttons=v.buttons, is_default=v.text is None)
    else:
        out.update(segment=v.segment)
    return out
