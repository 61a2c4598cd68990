"""Admin API for this feature: routes under /agent/api/admin/reminders (admins only).

GET  /config                 contact windows, holidays, caps and lead times per jurisdiction (country)
GET  /?status=&kind=&reference=&debtor_id=&limit=&offset=   reminders with reasons, counts per status
GET  /debtors/{debtor_id}    one debtor's reminder history
POST /plan                   run the planner now (sending stays with the scheduler and its guards)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from core.deps import SessionDep
from core.errors import refusals
from money.reminders import service
from money.reminders.config import load
from money.reminders.models import ReminderKind, ReminderStatus
from people.audit import reads
from people.audit.reads import AUDITED_READ
from people.auth.deps import AdminDep, AdminWriteDep

router = APIRouter(prefix="/agent/api/admin/reminders", tags=["admin-reminders"])

DebtorId = Path(ge=1, le=2**31 - 1)


@router.get("/config")
async def get_config(admin: AdminDep) -> dict[str, Any]:
    return service.config_view(load())


@router.get("", dependencies=[AUDITED_READ])
async def list_reminders(
    request: Request,
    admin: AdminDep,
    session: SessionDep,
    status: ReminderStatus | None = None,
    kind: ReminderKind | None = None,
    reference: Annotated[str | None, Query(max_length=32)] = None,
    debtor_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    found = await service.listing(
        session=session,
        status=status,
        kind=kind,
        reference=reference,
        debtor_id=debtor_id,
        limit=limit,
        offset=offset,
    )
    reads.note(request, debtors=[item["debtor"]["id"] for item in found["items"]])
    return found


@router.get("/debtors/{debtor_id}", responses=refusals(404), dependencies=[AUDITED_READ])
async def debtor_history(admin: AdminDep, session: SessionDep, debtor_id: int = DebtorId) -> dict[str, Any]:
    found = await service.history(session=session, debtor_id=debtor_id)
    if found is None:
        raise HTTPException(status_code=404, detail="not_found")
    return found


@router.post("/plan")
async def plan_now(admin: AdminWriteDep, session: SessionDep) -> dict[str, int]:
    """Plant what is due now. In the request's own session (on SQLite it already holds the write
    lock), committed before answering."""
    result = await service.plan_now(session=session, config=load())
    await session.commit()
    return {"considered": result.considered, "created": result.created}
