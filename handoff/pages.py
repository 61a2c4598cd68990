"""The agent console page at `/agent` (handoff/templates/console.html, in the staff member's
language) and its static files (vanilla JS, no build step, nothing loaded from the internet). The page itself holds no data: everything comes from the JSON API
(handoff/views.py, people/auth/views.py) after login, so it is served to anyone, but with 401 when
the request has no valid staff session (the page then shows its login form)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from core import templates
from core.deps import SessionDep
from core.templates import page_headers
from locales.catalog import FALLBACK_LOCALE, resolve_locale
from locales.pages import from_accept_language, labels, locale_names
from people.auth import service as auth_service
from people.auth.deps import STAFF_COOKIE
from people.auth.models import StaffUser

router = APIRouter(tags=["agent-console"], include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"
# Only these files are served (no directory listing, no path handling on user input).
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "locale.js": "text/javascript; charset=utf-8",
}
PAGE_HEADERS = page_headers()
STAFF_SCRIPTS = ["/agent/static/locale.js"]


def staff_locale(request: Request, user: StaffUser | None) -> str:
    """The staff member's chosen language; before login (or without a choice) the browser's."""
    chosen = resolve_locale(user.locale) if user is not None else None
    return chosen or from_accept_language(request.headers.get("accept-language")) or FALLBACK_LOCALE


def staff_context(locale: str) -> dict[str, Any]:
    """What every staff page's layout needs: the language selector and the shared labels."""
    return {"locale": locale, "locales": locale_names(), "staff": labels(locale, "staff")}


@router.get("/agent")
async def console(request: Request, session: SessionDep) -> HTMLResponse:
    """The console: 200 for a logged-in staff member, else 401 with the same page (login form)."""
    token = request.cookies.get(STAFF_COOKIE)
    found = await auth_service.session_user(session=session, token=token) if token else None
    locale = staff_locale(request, found[0] if found else None)
    t = labels(locale, "console")
    context = {
        **staff_context(locale),
        "title": t["title"],
        "t": t,
        "labels": t,  # the script's run-time strings: the page's JSON data island (app/base.html)
        "styles": ["/agent/static/console.css"],
        "scripts": ["/agent/static/console.js", *STAFF_SCRIPTS],
    }
    return templates.page("handoff/console.html", context, status_code=200 if found else 401)


@router.get("/agent/static/{name}")
async def asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="not_found")
    # no-cache: revalidated on every load, so a deploy never leaves an old script next to a new API.
    return FileResponse(
        STATIC / name,
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
