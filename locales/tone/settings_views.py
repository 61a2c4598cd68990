"""Admin API for tone defaults (per locale, per debtor segment) and segment assignments; included
in views.router, so under /agent/api/admin/tone too. See api.py for the conventions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from core.deps import SessionDep
from core.errors import refusals
from locales import SUPPORTED_LOCALES, TONES
from locales.deps import CatalogDep
from locales.tone import segments as tone_segments
from locales.tone import service
from locales.tone.api import Locale, Segment, VersionId, author_names, commit_change, version_json
from locales.tone.overrides import ensure_attached
from people.auth.deps import AdminDep, AdminWriteDep
from people.debtors.models import Debtor

router = APIRouter()


class ToneIn(BaseModel):
    tone: str | None = Field(max_length=16)


class AssignIn(BaseModel):
    reference: str = Field(min_length=1, max_length=32)
    segment: str = Field(min_length=1, max_length=32)


# -- tone defaults -------------------------------------------------------------------------
@router.get("/defaults")
async def get_defaults(admin: AdminDep, session: SessionDep, catalog: CatalogDep) -> dict[str, Any]:
    latest = await service.latest_tones(session=session)
    history = await service.tone_history(session=session)
    authors = await author_names(session, {v.author_id for v in history})
    counts = await tone_segments.counts(session=session)
    segment_names = await tone_segments.known(session=session)
    locales = []
    for code in SUPPORTED_LOCALES:
        config = catalog.config(code)
        chosen = latest.get((code, None))
        segment_tones = {s: latest[(code, s)].tone for s in segment_names if (code, s) in latest}
        locales.append({"code": code, "name": config.name, "file_tone": config.default_tone,
                        "tone": chosen.tone if chosen else None, "segments": segment_tones})  # fmt: skip
    segment_rows = [
        {"name": s, "derived": s in tone_segments.DERIVED, "debtors": counts.get(s, 0)} for s in segment_names
    ]
    return {
        "tones": list(TONES), "locales": locales, "segments": segment_rows,
        "history": [version_json(v, authors) for v in history],
    }  # fmt: skip


@router.put("/defaults/{locale}", responses=refusals(404, 422))
async def set_locale_tone(
    locale: Locale, body: ToneIn, request: Request, admin: AdminWriteDep, session: SessionDep, catalog: CatalogDep
) -> dict[str, Any]:
    """The locale's default tone (null: back to its locale.yml)."""
    work = service.set_tone(session=session, locale=locale, segment=None, tone=body.tone, author_id=admin.id)
    return version_json(await commit_change(request, session, catalog, work), {admin.id: admin.display_name})


@router.put("/defaults/{locale}/segments/{segment}", responses=refusals(404, 422))
async def set_segment_tone(
    locale: Locale, segment: Segment, body: ToneIn, request: Request, admin: AdminWriteDep, session: SessionDep,
    catalog: CatalogDep,
) -> dict[str, Any]:  # fmt: skip
    """A segment's tone in a locale (null: the segment has no tone of its own)."""
    work = service.set_tone(session=session, locale=locale, segment=segment, tone=body.tone, author_id=admin.id)
    return version_json(await commit_change(request, session, catalog, work), {admin.id: admin.display_name})


@router.post("/default-versions/{version_id}/rollback", responses=refusals(404, 422))
async def rollback_tone(
    version_id: VersionId, request: Request, admin: AdminWriteDep, session: SessionDep, catalog: CatalogDep
) -> dict[str, Any]:
    work = service.rollback_tone(session=session, version_id=version_id, author_id=admin.id)
    return version_json(await commit_change(request, session, catalog, work), {admin.id: admin.display_name})


# -- segments ------------------------------------------------------------------------------
@router.get("/segments")
async def get_segments(admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    rows = await tone_segments.assignments(session=session)
    authors = await author_names(session, {row.assigned_by_id for row, _ in rows})
    return {
        "derived": list(tone_segments.DERIVED),
        "assignments": [
            {
                "debtor_id": d.id,
                "reference": d.reference,
                "name": d.name,
                "locale": d.locale,
                "segment": row.segment,
                "assigned_at": row.assigned_at.isoformat(),
                "assigned_by": authors.get(row.assigned_by_id or 0),
            }
            for row, d in rows
        ],
    }


@router.put("/segments/assignments", responses=refusals(404, 422))
async def assign_segment(
    body: AssignIn, request: Request, admin: AdminWriteDep, session: SessionDep, catalog: CatalogDep
) -> dict[str, Any]:
    work = tone_segments.assign(session=session, reference=body.reference, segment=body.segment, author_id=admin.id)
    row = await commit_change(request, session, catalog, work)
    return {"debtor_id": row.debtor_id, "segment": row.segment}


@router.delete("/segments/assignments/{debtor_id}", responses=refusals(404))
async def unassign_segment(
    debtor_id: VersionId, request: Request, admin: AdminWriteDep, session: SessionDep, catalog: CatalogDep
) -> dict[str, Any]:
    await commit_change(request, session, catalog, tone_segments.unassign(session=session, debtor_id=debtor_id))
    return {"debtor_id": debtor_id, "segment": None}


@router.get("/segments/debtors/{reference}", responses=refusals(404))
async def debtor_segments(
    reference: Annotated[str, Path(min_length=1, max_length=32)], request: Request, admin: AdminDep,
    session: SessionDep, catalog: CatalogDep,
) -> dict[str, Any]:  # fmt: skip
    """Which segments a debtor is in, and the tone they would get in their own language."""
    debtor = await session.scalar(select(Debtor).where(func.upper(Debtor.reference) == reference.strip().upper()))
    if debtor is None:
        raise HTTPException(status_code=404, detail="unknown_debtor")
    found = await tone_segments.segments_of_debtor(session=session, debtor_id=debtor.id)
    ensure_attached(catalog, request.app.state.sessionmaker)
    await catalog.refresh()
    segment_tone = catalog.segment_tone(debtor.locale, found)
    return {
        "debtor": {"id": debtor.id, "reference": debtor.reference, "name": debtor.name, "locale": debtor.locale},
        "segments": found, "segment_tone": segment_tone, "tone": segment_tone or catalog.default_tone(debtor.locale),
    }  # fmt: skip
