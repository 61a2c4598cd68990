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

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

from app import deps
from app.errors import refusals

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


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


# A day as the schema says it (`format: date`): pydantic alone would also read "0" or "1700000000"
# as a Unix timestamp, so `?to=0` silently meant 1970-01-01 instead of a 422.
IsoDay = Annotated[date, BeforeValidator(_iso_day)]
