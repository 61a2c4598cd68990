"""The agent console page at `/agent` and its static files (vanilla JS, no build step, nothing
loaded from the internet). The page itself holds no data: everything comes from the JSON API
(handoff/views.py, auth/views.py) after login, so it is served to anyone, but with 401 when
the request has no valid staff session (the page then shows its login form)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from app.deps import STAFF_COOKIE, SessionDep
from auth import service as auth_service

router = APIRouter(tags=["agent-console"], include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"
# Only these files are served (no directory listing, no path handling on user input).
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# No inline script or style anywhere in the console, so a strict policy costs nothing and turns
# any markup that slipped into the page into inert text.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@router.get("/agent")
async def console(request: Request, session: SessionDep) -> FileResponse:
    """The console: 200 for a logged-in staff member, else 401 with the same page (login form)."""
    token = request.cookies.get(STAFF_COOKIE)
    found = await auth_service.session_user(session=session, token=token) if token else None
    return FileResponse(
        STATIC / "console.html",
        status_code=200 if found else 401,
        media_type="text/html; charset=utf-8",
        headers=PAGE_HEADERS,
    )


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
