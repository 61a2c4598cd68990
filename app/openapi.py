"""The refusals every route inherits from the framework and from app/deps.py, written into the
OpenAPI schema from the routes themselves, so a new route cannot forget them (`make fuzz` holds
each route to what its schema says):

- a console session dependency (StaffDep, AdminDep, ...) can refuse with 401;
- a role or CSRF check (AdminDep, StaffWriteDep, AdminWriteDep) with 403;
- a JSON body that is not UTF-8 is FastAPI's 400 ("There was an error parsing the body"), and a
  body over MAX_BODY_BYTES the body-size middleware's 413.

What a feature itself refuses (404, 409, a 422 with a code, 503) each route documents with
`responses=refusals(...)` (app/errors.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.routing import APIRoute

from core import templates
from core.errors import refusals
from people.auth import deps
from people.auth import service as auth_service

GUARDS: dict[int, tuple[Callable[..., Any], ...]] = {
    401: (deps._staff_login,),
    403: (deps._admin, deps._check_csrf, deps._staff_write, deps._admin_write),
}


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def depends_on(dependant: Any, targets: tuple[Callable[..., Any], ...]) -> bool:
    return any(d.call in targets or depends_on(d, targets) for d in dependant.dependencies)


def inherited(route: APIRoute) -> list[int]:
    statuses = [status for status, guards in GUARDS.items() if depends_on(route.dependant, guards)]
    if route.body_field is not None:
        statuses += [400, 413]
    return statuses


def document_refusals(app: FastAPI) -> None:
    """Add the inherited refusals to each route's `responses` (a route's own entry wins)."""
    for route in api_routes(app.routes):
        for status, response in refusals(*inherited(route)).items():
            route.responses.setdefault(status, response)


# The API documentation: anyone may read it in a demo (ASSISTANT_ENV=demo, `make run`), only
# logged-in staff otherwise (a map of every route helps an attacker more than a user). Staff read
# it under /agent, where the browser sends their console cookie; /docs and /openapi.json answer
# them too when the cookie is sent there (API clients), anyone else gets 404.
docs_router = APIRouter(include_in_schema=False)
DOCS_TITLE = "Debtor assistant gateway"
# Swagger UI and ReDoc come from their CDN (as FastAPI's defaults); the page itself runs no inline
# script (app/templates/swagger.html + app/static/swagger-init.js).
CDN = "https://cdn.jsdelivr.net"
SWAGGER_INIT = Path(__file__).resolve().parent / "static" / "swagger-init.js"


def _swagger(openapi_url: str) -> HTMLResponse:
    context = {
        "locale": "en",
        "title": DOCS_TITLE,
        "openapi_url": openapi_url,
        "styles": [f"{CDN}/npm/swagger-ui-dist@5/swagger-ui.css"],
        "scripts": [f"{CDN}/npm/swagger-ui-dist@5/swagger-ui-bundle.js", "/docs-static/swagger-init.js"],
    }
    return templates.page("app/swagger.html", context, cdn=CDN)


def _redoc(openapi_url: str) -> HTMLResponse:
    context = {
        "locale": "en",
        "title": DOCS_TITLE,
        "openapi_url": openapi_url,
        "styles": [],
        "scripts": [f"{CDN}/npm/redoc@2/bundles/redoc.standalone.js"],
    }
    return templates.page("app/redoc.html", context, cdn=CDN)


async def _public_or_staff(request: Request) -> None:
    if request.app.state.settings.assistant_env == "demo":
        return
    token = request.cookies.get(deps.STAFF_COOKIE)
    if token:
        async with request.app.state.sessionmaker() as session:
            if await auth_service.session_user(session=session, token=token) is not None:
                return
    raise HTTPException(status_code=404, detail="Not Found")


@docs_router.get("/openapi.json", dependencies=[Depends(_public_or_staff)])
@docs_router.get("/agent/openapi.json", dependencies=[Depends(deps._staff)])
async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@docs_router.get("/docs", dependencies=[Depends(_public_or_staff)])
async def swagger(request: Request) -> HTMLResponse:
    return _swagger("/openapi.json")


@docs_router.get("/agent/docs", dependencies=[Depends(deps._staff)])
async def staff_swagger(request: Request) -> HTMLResponse:
    return _swagger("/agent/openapi.json")


@docs_router.get("/redoc", dependencies=[Depends(_public_or_staff)])
async def redoc(request: Request) -> HTMLResponse:
    return _redoc("/openapi.json")


@docs_router.get("/docs-static/swagger-init.js")
async def swagger_init() -> FileResponse:
    """The docs page's own script (no data in it)."""
    return FileResponse(
        SWAGGER_INIT, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )
