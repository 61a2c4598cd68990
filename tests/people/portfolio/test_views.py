"""POST /agent/api/admin/portfolio/imports on the real app: an admin with the CSRF token gets the
counts and every refused row; an agent and a request without the token get 403."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.people.portfolio.api import gateway_with_staff, login
from tests.people.portfolio.portfolio import as_csv, creditor, row

URL = "/agent/api/admin/portfolio/imports"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with gateway_with_staff(tmp_path_factory.mktemp("portfolio-api")) as client:
        yield client


def upload(client: TestClient, data: bytes, csrf: str | None, name: str = "p.csv") -> object:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.post(URL, files={"file": (name, data, "text/csv")}, headers=headers)


def test_admin_imports_and_gets_counts_and_errors(client: TestClient) -> None:
    csrf = login(client, "admin")
    c = creditor()
    response = upload(client, as_csv([row(c, "AP-0001"), row(c, "AP-0002", currency="SEKK")]), csrf)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["rows"], body["rejected"], body["debts_created"], body["debtors_created"]) == (2, 1, 1, 1)
    assert body["errors"] == [{"line": 3, "column": "currency", "reason": "unknown_currency"}]
    again = upload(client, as_csv([row(c, "AP-0001")]), csrf).json()  # type: ignore[attr-defined]
    assert (again["debts_unchanged"], again["debts_created"]) == (1, 0)


def test_unreadable_file_is_422(client: TestClient) -> None:
    csrf = login(client, "admin")
    response = upload(client, b"creditor,reference\nC,AB-1234\n", csrf)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json()["detail"]["reason"] == "missing_columns"  # type: ignore[attr-defined]


def test_agent_and_missing_csrf_are_refused(client: TestClient) -> None:
    data = as_csv([row(creditor(), "AP-0003")])
    agent_csrf = login(client, "agent")
    refused = upload(client, data, agent_csrf)
    assert (refused.status_code, refused.json()["detail"]) == (403, "forbidden")  # type: ignore[attr-defined]
    login(client, "admin")
    refused = upload(client, data, None)
    assert (refused.status_code, refused.json()["detail"]) == (403, "csrf")  # type: ignore[attr-defined]
    client.cookies.clear()
    assert upload(client, data, None).status_code == 401  # type: ignore[attr-defined]
