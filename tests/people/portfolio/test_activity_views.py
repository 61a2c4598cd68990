"""GET /agent/api/admin/portfolio/activity.csv on the real app: an admin downloads the CSV (an
attachment, with the `until` used), an agent gets 403, nobody logged in 401, a bad time 422."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from people.consent import service as consent
from tests.people.portfolio.activity_data import add_person
from tests.people.portfolio.api import gateway_with_staff, login

URL = "/agent/api/admin/portfolio/activity.csv"
CREDITOR = "-Creditor (formula-like)"


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    async def data(session: AsyncSession) -> None:
        debtor_id, _ = await add_person(session, CREDITOR, ("API-1", "API-2"))
        await consent.set_opted_out(
            session=session, channel="sms", address="+46701740642", opted_out=True, source="keyword:STOP",
            debtor_id=debtor_id,
        )  # fmt: skip

    with gateway_with_staff(tmp_path_factory.mktemp("activity-api"), data) as client:
        yield client


def test_admin_downloads_the_csv(app_client: TestClient) -> None:
    login(app_client, "admin")
    response = app_client.get(URL, params={"since": "2020-01-01T00:00:00Z"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="activity-')
    lines = list(csv.reader(io.StringIO(response.text)))
    assert [[*line[1:4], line[6]] for line in lines[1:]] == [
        ["'" + CREDITOR, "API-1", "opt_out", "sms"], ["'" + CREDITOR, "API-2", "opt_out", "sms"],
    ]  # fmt: skip
    assert "+46701740642" not in response.text
    until = response.headers["x-activity-until"]
    again = app_client.get(URL, params={"since": until})  # the next download starts there: nothing repeats
    assert again.status_code == 200 and again.text.strip().count("\n") == 0
    assert datetime.fromisoformat(again.headers["x-activity-until"]) >= datetime.fromisoformat(until)


def test_agent_is_403_and_anonymous_401(app_client: TestClient) -> None:
    login(app_client, "agent")
    assert app_client.get(URL, params={"since": "2020-01-01"}).status_code == 403
    app_client.cookies.clear()
    assert app_client.get(URL, params={"since": "2020-01-01"}).status_code == 401


def test_bad_times_are_422(app_client: TestClient) -> None:
    login(app_client, "admin")
    assert app_client.get(URL, params={"since": "yesterday"}).status_code == 422
    assert app_client.get(URL).status_code == 422
    refused = app_client.get(URL, params={"since": "2026-05-02T00:00:00Z", "until": "2026-05-01T00:00:00Z"})
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "since_after_until"
