"""Every staff read of a conversation or debtor is in the audit log (issue 14 point 7).

The sweep walks every GET route under /agent found from the app: each one is either an audited
read (audit.reads.AUDITED_READ) or listed below with why it shows no conversation or debtor, so a
new read route that forgets the audit fails here. Then each audited route is called for real, on
SQLite and PostgreSQL, and must leave its row (who, which route, which id); a read whose row
cannot be written is a 503 without the data."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from app.main import create_app
from app.openapi import api_routes, depends_on
from people.audit import reads
from people.audit import service as audit_service
from people.debtors import service as debtors_service
from tests.people.audit.test_middleware import _events, _last_id, _queued, _staff, gateway, login

# GET routes under /agent that show no conversation and no debtor (and why).
NOT_PERSONAL: dict[str, str] = {
    "/agent": "the console page itself (no data)",
    "/agent/static/{name}": "console script and style",
    "/agent/admin": "the admin page itself (no data)",
    "/agent/admin/{name}": "admin pages (no data)",
    "/agent/static/admin/{name}": "admin scripts and styles",
    "/agent/api/me": "the staff member's own account",
    "/agent/docs": "the API documentation (app/openapi.py)",
    "/agent/openapi.json": "the API schema",
    "/agent/api/staff": "staff accounts",
    "/agent/api/events": "change counters only (the queue and detail reads that follow are audited)",
    "/agent/api/admin/training/examples": "NLU training examples from the repository and admins",
    "/agent/api/admin/training/versions": "model versions",
    "/agent/api/admin/training/versions/{version_id}": "a model version",
    "/agent/api/admin/training/versions/{version_id}/comparison": "evaluation numbers",
    "/agent/api/admin/tone/locales": "text catalogue",
    "/agent/api/admin/tone/texts": "text catalogue",
    "/agent/api/admin/tone/texts/{locale}/{key}": "text catalogue",
    "/agent/api/admin/tone/texts/{locale}/{key}/{tone}/history": "text edits",
    "/agent/api/admin/tone/samples/{locale}/{key}": "texts rendered with sample values",
    "/agent/api/admin/experiments/options": "experiment settings",
    "/agent/api/admin/experiments": "experiments",
    "/agent/api/admin/experiments/{experiment_id}": "an experiment",
    "/agent/api/admin/experiments/{experiment_id}/results": "aggregate numbers per variant",
    "/agent/api/admin/reminders/config": "reminder policy",
    "/agent/api/admin/analytics/metrics": "aggregate numbers",
    "/agent/api/admin/analytics/export.csv": "aggregate numbers",
    "/agent/api/admin/analytics/outreach": "aggregate first-contact funnel numbers",
    "/agent/api/admin/gdpr/erasures": "erasure requests: ids and status, no personal details",
    "/agent/api/admin/gdpr/retention": "retention settings",
    "/agent/api/admin/gdpr/audit": "the audit log itself",
}


def _app() -> FastAPI:
    return create_app(GatewaySettings(database_url="sqlite+aiosqlite:///:memory:"))


def staff_reads(app: FastAPI) -> dict[str, bool]:
    """Every GET route under /agent, and whether it is an audited read."""
    return {
        route.path: depends_on(route.dependant, (reads._audited_read,))
        for route in api_routes(app.routes)
        if "GET" in route.methods and (route.path == "/agent" or route.path.startswith("/agent/"))
    }


def test_every_staff_read_route_is_audited_or_shows_no_personal_data() -> None:
    found = staff_reads(_app())
    unexplained = sorted(path for path, audited in found.items() if not audited and path not in NOT_PERSONAL)
    assert unexplained == [], f"GET routes under /agent neither audited nor listed in NOT_PERSONAL: {unexplained}"
    stale = sorted(path for path in NOT_PERSONAL if path not in found or found[path])
    assert stale == [], f"NOT_PERSONAL lists routes that are gone or audited now: {stale}"
    assert {path for path, audited in found.items() if audited} == set(AUDITED_PATHS)


# Each audited route, called for real: its concrete URL and the target or ids its row must name.
AUDITED_PATHS = (
    "/agent/api/queue",
    "/agent/api/conversations/{conversation_id}",
    "/agent/api/admin/reminders",
    "/agent/api/admin/reminders/debtors/{debtor_id}",
    "/agent/api/admin/gdpr/debtors",
    "/agent/api/admin/gdpr/debtors/{debtor_id}",
    "/agent/api/admin/gdpr/debtors/{debtor_id}/export",
    "/agent/api/admin/portfolio/activity.csv",
)


async def _emily(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
        assert emily is not None
        return emily.id


async def test_each_audited_read_leaves_its_row(committed: async_sessionmaker[AsyncSession]) -> None:
    users = await _staff(committed)
    conversation = await _queued(committed)
    debtor = await _emily(committed)
    calls: list[tuple[str, str, tuple[str | None, str | None], dict[str, Any] | None]] = [
        ("handoff.get_queue", "/agent/api/queue", (None, None), {"conversations": [conversation]}),
        ("handoff.get_conversation", f"/agent/api/conversations/{conversation}", ("conversation", conversation), None),
        ("reminders.list_reminders", "/agent/api/admin/reminders", (None, None), {"debtors": []}),
        (
            "reminders.debtor_history",
            f"/agent/api/admin/reminders/debtors/{debtor}",
            ("debtor", str(debtor)),
            None,
        ),
        (
            "gdpr.find_debtors",
            "/agent/api/admin/gdpr/debtors?q=UK-300552",
            (None, None),
            {"debtors": [str(debtor)]},
        ),
        ("gdpr.get_debtor", f"/agent/api/admin/gdpr/debtors/{debtor}", ("debtor", str(debtor)), None),
        ("gdpr.export", f"/agent/api/admin/gdpr/debtors/{debtor}/export", ("debtor", str(debtor)), None),
        (
            "portfolio.activity_csv",
            "/agent/api/admin/portfolio/activity.csv?since=2020-01-01",
            (None, None),
            {"debtors": []},
        ),
    ]
    start = await _last_id(committed)
    with gateway(committed) as client:
        login(client, users["admin"])
        for _, url, _, _ in calls:
            assert client.get(url).status_code == 200, url
    rows = [e for e in await _events(committed, start) if e.method == "GET"]
    assert [e.action for e in rows] == [action for action, *_ in calls]
    for event, (action, url, target, ids) in zip(rows, calls, strict=True):
        assert (event.actor_username, event.actor_role, event.status_code) == (users["admin"], "admin", 200), action
        assert event.path == url.split("?")[0] and event.created_at is not None
        assert (event.target_type, event.target_id) == target, action
        if ids is not None:
            assert event.detail is not None and all(set(v) <= set(event.detail[k]) for k, v in ids.items()), action
    queue = rows[0].detail or {}
    assert conversation in queue["conversations"]


async def test_a_read_whose_audit_row_cannot_be_written_shows_nothing(
    committed: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    users = await _staff(committed)
    conversation = await _queued(committed)
    with gateway(committed) as client:
        login(client, users["agent"])

        async def broken(**_: object) -> None:
            raise RuntimeError("audit table unavailable")

        monkeypatch.setattr(audit_service, "record", broken)
        monkeypatch.setattr(logging.getLogger("people.audit.middleware"), "disabled", False)
        response = client.get(f"/agent/api/conversations/{conversation}")
        assert response.status_code == 503 and response.json() == {"detail": "audit_unavailable"}
        assert conversation not in response.text
