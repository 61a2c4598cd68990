"""The OpenAPI schema documents what each route can refuse (app/openapi.py, app/errors.py), found
from the routes' dependencies so a new route cannot forget: `make fuzz` holds every route to it."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from app.config import GatewaySettings
from app.main import create_app
from core.types import IsoDay


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return create_app(GatewaySettings(database_url="sqlite+aiosqlite:///:memory:")).openapi()


def responses(schema: dict[str, Any], method: str, path: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"])


def test_guards_document_401_and_403(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        if not path.startswith("/agent/api/") or path == "/agent/api/login":
            continue
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)
            if method != "get" or "/admin/" in path or path == "/agent/api/staff":
                assert "403" in operation["responses"], (method, path)  # role or CSRF
    assert "403" not in responses(schema, "get", "/agent/api/queue")  # any staff member may read it


def test_bodies_document_parse_errors_and_size(schema: dict[str, Any]) -> None:
    assert {"400", "413", "422"} <= responses(schema, "post", "/webchat/messages")
    assert {"400", "413"}.isdisjoint(responses(schema, "get", "/health"))


def test_refusals_have_one_shape(schema: dict[str, Any]) -> None:
    retrain = schema["paths"]["/agent/api/admin/training/versions"]["post"]["responses"]
    assert {"202", "409", "503"} <= set(retrain)
    assert retrain["503"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Refusal"
    invalid = schema["components"]["schemas"]["Invalid"]["properties"]["detail"]["anyOf"]
    assert {"array", "string", "object"} <= {part.get("type") for part in invalid}
    csv = schema["paths"]["/agent/api/admin/analytics/export.csv"]["get"]["responses"]["200"]["content"]
    assert list(csv) == ["text/csv"]


def test_iso_day_refuses_timestamps() -> None:
    app = FastAPI()

    @app.get("/day")
    async def day(to: Annotated[IsoDay | None, Query()] = None) -> dict[str, str | None]:
        return {"to": to.isoformat() if to else None}

    client = TestClient(app)
    assert client.get("/day", params={"to": "2026-02-03"}).json() == {"to": "2026-02-03"}
    assert client.get("/day").json() == {"to": None}
    for wrong in ("0", "1700000000", "2026-2-3", "2026-13-01"):
        assert client.get("/day", params={"to": wrong}).status_code == 422, wrong
