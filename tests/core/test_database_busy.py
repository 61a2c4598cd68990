"""An overloaded SQLite (the write lock still held by others when the busy timeout runs out) is
answered 503 + Retry-After, which providers retry, not 500; other database errors stay 500."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from app.config import GatewaySettings
from app.main import create_app
from core.errors import database_busy


def _app(error: Exception) -> FastAPI:
    app = FastAPI()
    app.add_exception_handler(OperationalError, database_busy)

    @app.post("/write")
    async def write() -> None:
        raise error

    return app


def test_a_locked_database_is_503_with_retry_after() -> None:
    locked = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    response = TestClient(_app(locked)).post("/write")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2" and response.json() == {"detail": "busy"}


def test_other_database_errors_are_still_server_errors() -> None:
    broken = OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: debts"))
    with pytest.raises(OperationalError):
        TestClient(_app(broken)).post("/write")


def test_the_gateway_installs_the_handler() -> None:
    app = create_app(GatewaySettings(database_url="sqlite+aiosqlite:///:memory:"))
    assert app.exception_handlers[OperationalError] is database_busy
