"""Admin pages under `/agent/admin` (inside the console's cookie path): a small shell and one
static page per feature (`admin/static/<page>.html` + `<page>.js`), all data from JSON APIs
under `/agent/api/admin/...`. Pages are served to admins only (401 anonymous, 403 agents)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from app.deps import AdminDep
from handoff.pages import PAGE_HEADERS

router = APIRouter(tags=["admin-pages"], include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def _page(name: str) -> FileResponse:
    path = STATIC / f"{name}.html"
    if not NAME.match(name) or not path.is_file():
        raise HTTPException(status_code=404, detail="not_found")
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.get("/agent/admin")
async def index(admin: AdminDep) -> FileResponse:
    return _page("index")


@router.get("/agent/admin/{name}")
async def page(name: str, admin: AdminDep) -> FileResponse:
    return _page(name)


@router.get("/agent/static/admin/{name}")
async def asset(name: str) -> FileResponse:
    """Scripts and styles (no data in them; public like the console's own)."""
    stem, dot, suffix = name.rpartition(".")
    media = MEDIA.get(dot + suffix)
    path = STATIC / name
    if not (stem and media and NAME.match(stem) and path.is_file()):
        raise HTTPException(status_code=404, detail="not_found")
    return FileResponse(
        path, media_type=media, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    )
