"""Admin API for data protection: routes under /agent/api/admin/gdpr (admins only).

Find a debtor, export everything about them (a JSON download, audited), erase them on request,
list erasure requests, see and run transcript retention, read the audit log. On SQLite the admin
check opened the request's session and holds the write lock, so every write happens in that
session and is committed before Rasa is called (see handoff/views.py `_commit`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from core.deps import SessionDep
from core.errors import refusals
from core.types import IsoDay
from engine.conversations.deps import RasaDep
from people.audit import reads
from people.audit import service as audit_service
from people.audit.models import AuditEvent
from people.audit.reads import AUDITED_READ
from people.auth.deps import AdminDep, AdminWriteDep
from people.debtors.models import Debtor
from people.gdpr import erase as erase_service
from people.gdpr import retention, service
from people.gdpr.config import load
from people.gdpr.models import ErasureRequest, ErasureStatus

router = APIRouter(prefix="/agent/api/admin/gdpr", tags=["admin-gdpr"])

DebtorId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_PAGE_SIZE = 200


class EraseIn(BaseModel):
    # The debtor's case reference typed again: erasure cannot happen by a slip of the mouse.
    confirm_reference: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=3, max_length=500)


def _fail(exc: service.GdprError) -> HTTPException:
    return HTTPException(status_code=exc.status, detail=exc.code)


def _erasure(request: ErasureRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "debtor_id": request.debtor_id,
        "requested_by": request.requested_by_username,
        "reason": request.reason,
        "status": request.status.value,
        "blockers": request.blockers,
        "retain_until": request.retain_until,
        "detail": request.detail,
        "created_at": request.created_at,
        "completed_at": request.completed_at,
    }


async def _debtor(session: AsyncSession, debtor: Debtor, *, with_counts: bool) -> dict[str, Any]:
    erased = await service.completed_erasure(session=session, debtor_id=debtor.id)
    found: dict[str, Any] = {
        "id": debtor.id,
        "reference": debtor.reference,
        "name": debtor.name,
        "locale": debtor.locale,
        "created_at": debtor.created_at,
        "erased": erased is not None,
        "erasure": _erasure(erased) if erased else None,
    }
    if with_counts:
        found["rows"] = await service.counts(session=session, debtor=debtor)
    return found


@router.get("/debtors", dependencies=[AUDITED_READ])
async def find_debtors(
    request: Request, _admin: AdminDep, session: SessionDep, q: Annotated[str, Query(min_length=1, max_length=64)]
) -> dict[str, Any]:
    """By case reference ("UK-300552", "uk 300552") or debtor id ("#12")."""
    found = await service.find(session=session, query=q)
    reads.note(request, debtors=[d.id for d in found])
    return {"items": [await _debtor(session, d, with_counts=True) for d in found]}


@router.get("/debtors/{debtor_id}", responses=refusals(404), dependencies=[AUDITED_READ])
async def get_debtor(_admin: AdminDep, session: SessionDep, debtor_id: DebtorId) -> dict[str, Any]:
    try:
        debtor = await service.get_debtor(session=session, debtor_id=debtor_id)
    except service.GdprError as exc:
        raise _fail(exc) from exc
    return await _debtor(session, debtor, with_counts=True)


@router.get("/debtors/{debtor_id}/export", responses=refusals(404), dependencies=[AUDITED_READ])
async def export_debtor(request: Request, admin: AdminDep, session: SessionDep, debtor_id: DebtorId) -> Response:
    """Everything about the debtor as a JSON download. A read, but of everything: audited (the row
    is written before the download starts, people/audit/reads.py)."""
    request.state.audit = {"action": "gdpr.export", "target": ("debtor", debtor_id)}
    try:
        document = await service.export(session=session, debtor_id=debtor_id)
    except service.GdprError as exc:
        raise _fail(exc) from exc
    request.state.audit["detail"] = {"tables": {name: len(rows) for name, rows in document["tables"].items() if rows}}
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Response(
        content=service.dumps(document),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="debtor-{debtor_id}-{stamp}.json"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _note_for_audit(request: Request, target: tuple[str, object], detail: dict[str, Any]) -> None:
    """What the audit middleware adds to this request's row (people/audit/middleware.py)."""
    request.state.audit = {"target": target, "detail": detail}


@router.post("/debtors/{debtor_id}/erase", responses=refusals(404, 422))
async def erase_debtor(
    request: Request, body: EraseIn, admin: AdminWriteDep, session: SessionDep, rasa: RasaDep, debtor_id: DebtorId
) -> dict[str, Any]:
    try:
        debtor = await service.get_debtor(session=session, debtor_id=debtor_id)
        already = await service.completed_erasure(session=session, debtor_id=debtor_id)
        if already is None and body.confirm_reference.strip().upper() != debtor.reference.upper():
            raise service.GdprError("confirmation_mismatch", 422)
        erasure, created = await erase_service.erase(
            session=session, debtor_id=debtor_id, staff=admin, reason=body.reason, config=load()
        )
    except service.GdprError as exc:
        await session.rollback()
        raise _fail(exc) from exc
    await session.commit()
    if created and erasure.status is ErasureStatus.COMPLETED:
        rasa_result = await erase_service.clear_trackers(rasa=rasa, conversation_ids=erasure.detail["conversations"])
        erasure.detail = {**erasure.detail, "rasa": rasa_result}
        await session.commit()
    _note_for_audit(
        request, ("debtor", debtor_id), {"erasure_id": erasure.id, "status": erasure.status.value, "created": created}
    )
    return {"created": created, "erasure": _erasure(erasure)}


@router.get("/erasures")
async def list_erasures(
    _admin: AdminDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    rows = await service.erasures(session=session, offset=(page - 1) * per_page, limit=per_page)
    return {"items": [_erasure(r) for r in rows], "page": page, "per_page": per_page}


@router.post("/erasures/{request_id}/rasa", responses=refusals(404))
async def retry_rasa(
    request: Request, admin: AdminWriteDep, session: SessionDep, rasa: RasaDep, request_id: RequestId
) -> dict[str, Any]:
    """Clear Rasa's copies again (when Rasa could not be reached at erasure time)."""
    erasure = await session.get(ErasureRequest, request_id)
    if erasure is None or erasure.status is not ErasureStatus.COMPLETED:
        raise HTTPException(status_code=404, detail="not_found")
    await session.commit()  # release the SQLite write lock while Rasa is called
    result = await erase_service.clear_trackers(rasa=rasa, conversation_ids=erasure.detail.get("conversations", []))
    erasure.detail = {**erasure.detail, "rasa": result}
    await session.commit()
    _note_for_audit(request, ("erasure", request_id), {"cleared": result["cleared"]})
    return _erasure(erasure)


@router.get("/retention")
async def retention_settings(_admin: AdminDep, session: SessionDep) -> dict[str, Any]:
    config = load()
    runs, _ = await audit_service.search(
        session=session, filters=audit_service.Filters(action="gdpr.retention"), limit=1
    )
    return {
        "transcript_retention_days": config.transcript_days,
        "every_hours": config.every_hours,
        "countries": [
            {
                "country": country,
                "transcript_retention_days": entry.transcript_days,
                "bookkeeping_years": entry.bookkeeping_years,
                "law": entry.law,
            }
            for country, entry in sorted(config.countries.items())
        ],
        "last_redaction": _event(runs[0]) if runs else None,
    }


@router.post("/retention/run")
async def run_retention(request: Request, _admin: AdminWriteDep, session: SessionDep, rasa: RasaDep) -> dict[str, int]:
    changed = await retention.run(session=session, rasa=rasa)
    await session.commit()
    _note_for_audit(request, ("retention", None), changed)
    return changed


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at,
        "actor_id": event.actor_id,
        "actor": event.actor_username,
        "role": event.actor_role,
        "action": event.action,
        "method": event.method,
        "path": event.path,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "status_code": event.status_code,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "detail": event.detail,
    }


def _day(value: date | None, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    start = datetime.combine(value, time.min, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


@router.get("/audit", responses=refusals(422))
async def audit_log(
    _admin: AdminDep,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[IsoDay | None, Query(alias="from")] = None,
    until: Annotated[IsoDay | None, Query(alias="to")] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """Newest first; `from`/`to` are whole days (UTC), both included."""
    if since and until and until < since:
        raise HTTPException(status_code=422, detail="invalid_range")
    filters = audit_service.Filters(
        actor=actor or None,
        action=action or None,
        since=_day(since),
        until=_day(until, end=True),
        target_type=target_type or None,
        target_id=target_id or None,
    )
    events, total = await audit_service.search(
        session=session, filters=filters, offset=(page - 1) * per_page, limit=per_page
    )
    return {
        "items": [_event(e) for e in events],
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
        "actions": await audit_service.actions(session=session),
    }
