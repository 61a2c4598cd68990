"""Admin API: POST /agent/api/admin/portfolio/imports (multipart `file`: a .csv or .jsonl).

Answers the counts, the ignored columns and every refused row (line, column, reason); 422 with
`unreadable` when the file as a whole cannot be read (nothing applied). The body limit for this
path is raised in engine/abuse/config.py (MAX_BODY_BYTES_BY_PATH)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile

from core.deps import SessionDep
from core.errors import refusals
from people.auth.deps import AdminWriteDep
from people.portfolio import service
from people.portfolio.reader import Unreadable

PATH = "/agent/api/admin/portfolio/imports"
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
