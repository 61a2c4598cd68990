"""Admin pages under `/agent/admin` (inside the console's cookie path): one template per feature
(`backoffice/admin/templates/<page>.html` on the shared layout app/templates/base.html, with the admin nav
and the staff language selector) + `backoffice/admin/static/<page>.js`, all data from JSON APIs under
`/agent/api/admin/...`. Pages are served to admins only (401 anonymous, 403 agents), in the
admin's chosen language (locales/<locale>/pages/admin.yml: the template's text, and the labels the
page's script needs in a JSON data island)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from core import templates
from handoff.pages import STAFF_SCRIPTS, staff_context, staff_locale
from locales.pages import labels
from people.auth.deps import AdminDep

router = APIRouter(tags=["admin-pages"], include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# The admin sections in nav order (their labels are keys of the `staff` section of locales/<locale>/pages/staff.yml).
PAGES: tuple[str, ...] = ("intents", "tone", "experiments", "reminders", "dashboard", "privacy")
EXTRA_STYLES = {"dashboard": ["/agent/static/admin/dashboard.css"]}


def _page(name: str, request: Request, admin: AdminDep) -> HTMLResponse:
    if name != "index" and name not in PAGES:
        raise HTTPException(status_code=404, detail="not_found")
    locale = staff_locale(request, admin)
    context = staff_context(locale)
    staff = context["staff"]
    t = labels(locale, "admin")
    nav = [{"href": "/agent", "label": staff["console"], "current": False}]
    nav += [{"href": f"/agent/admin/{page}", "label": staff[page], "current": page == name} for page in PAGES]
    return templates.page(
        f"admin/{name}.html",
        {
            **context,
            "t": t,
            "nav": nav,
            "title": t["title"] if name == "index" else f"{staff[name]} – {t['title']}",
            # What the page's script shows itself (admin/static/admin.js reads it): never executed.
            "labels": {"common": t["common"], **({name: t[name]} if name in PAGES else {})},
            "styles": ["/agent/static/admin/admin.css", *EXTRA_STYLES.get(name, [])],
            "scripts": ["/agent/static/admin/admin.js", f"/agent/static/admin/{name}.js", *STAFF_SCRIPTS],
        },
    )


@router.get("/agent/admin")
async def index(request: Request, admin: AdminDep) -> HTMLResponse:
    return _page("index", request, admin)


@router.get("/agent/admin/{name}")
async def page(name: str, request: Request, admin: AdminDep) -> HTMLResponse:
    return _page(name, request, admin)


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
