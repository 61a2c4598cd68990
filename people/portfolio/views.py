"""Admin API: POST /agent/api/admin/portfolio/imports (multipart `file`: a .csv or .jsonl) and
GET /agent/api/admin/portfolio/activity.csv?since=…[&until=…] (the export back).

The import answers the counts, the ignored columns and every refused row (line, column, reason);
422 with `unreadable` when the file as a whole cannot be read (nothing applied). The body limit
for this path is raised in engine/abuse/config.py (MAX_BODY_BYTES_BY_PATH). The export is an
audited read (it tells what happened to whose debts): the audit row names the debtors in it; the
`until` it used comes back in `X-Activity-Until`, the next download's `since`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from core.database import utcnow
from core.deps import SessionDep
from core.errors import refusals
from people.audit.reads import AUDITED_READ, note
from people.auth.deps import AdminDep, AdminWriteDep
from people.portfolio import activity, service
from people.portfolio.reader import Unreadable

PATH = "/agent/api/admin/portfolio/imports"
ACTIVITY_PATH = "/agent/api/admin/portfolio/activity.csv"
CSV = {
    "description": "One row per event and debt (an attachment)",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}
Moment = Annotated[datetime | None, Query(description="ISO 8601; without an offset, UTC")]
router = APIRouter(tags=["admin-portfolio"])


@router.post(PATH, responses=refusals(413, 422))
async def create_import(
    request: Request,
    admin: AdminWriteDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="CSV or JSON Lines")],
) -> dict[str, Any]:
    """Runs in the request in chunks of its own transactions (per-chunk commits keep SQLite's
    write lock short for the gateway's other writers)."""
    await session.commit()  # the login check may have written: SQLite's write lock is the import's now
    data = await file.read()
    try:
        report = await service.run(
            sessionmaker=request.app.state.sessionmaker,
            data=data,
            filename=file.filename or "upload.csv",
            source="api",
            staff_user_id=admin.id,
        )
    except Unreadable as exc:
        raise HTTPException(
            status_code=422, detail={"code": "unreadable", "reason": exc.reason, "where": exc.detail}
        ) from exc
    return {
        "import": report.run_id,
        **report.counts(),
        "ignored_columns": report.ignored_columns,
        "errors": [asdict(problem) for problem in report.problems],
    }


@router.get(ACTIVITY_PATH, response_class=Response, responses={200: CSV, **refusals(422)}, dependencies=[AUDITED_READ])
async def activity_csv(
    request: Request,
    admin: AdminDep,
    session: SessionDep,
    since: Annotated[datetime, Query(description="ISO 8601, inclusive; without an offset, UTC")],
    until: Moment = None,
) -> Response:
    """Events in [since, until), until defaulting to now."""
    try:
        window = activity.window(since, until or utcnow())
    except activity.BadMoment as exc:
        raise HTTPException(status_code=422, detail={"code": "since_after_until"}) from exc
    found = await activity.rows(session=session, window=window)
    note(request, debtors=[row.debtor_id for row in found])
    stamp = window.until.strftime("%Y%m%dT%H%M%S%fZ")
    return Response(
        content=activity.to_csv(found).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="activity-{stamp}.csv"',
            "X-Activity-Until": window.until.isoformat(),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
