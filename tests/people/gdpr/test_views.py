"""The privacy admin API on the whole gateway (create_app) on committing SQLite and PostgreSQL:
search, export download (audited), erase with confirmation (Rasa's trackers emptied through
its HTTP API), erasure requests, retention, the audit log viewer; admins only."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from app.main import create_app
from people.auth import service as auth_service
from people.auth.models import Role
from tests.engine.conversations.test_tracker_store import add_events, create_rasa_events, senders
from tests.people.gdpr.people import Person, build
from tests.stack import free_port

PASSWORD = "a long enough password"


class FakeRasa:
    """Rasa's tracker endpoint on loopback: records every PUT of a tracker's events."""

    def __init__(self) -> None:
        self.puts: list[tuple[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.puts.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def fresh_lockout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_service, "LOCKOUT", auth_service.Lockout())


@contextmanager
def gateway(
    maker: async_sessionmaker[AsyncSession], rasa_url: str, *, tracker_store_url: str | None = None
) -> Iterator[TestClient]:
    """`tracker_store_url`: Rasa's SQL tracker store; None: Rasa keeps trackers in memory."""
    url = maker.kw["bind"].url.render_as_string(hide_password=False)
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=url, rasa_url=rasa_url, action_server_url=dead, health_timeout_seconds=0.5,
        rasa_tracker_store_url=tracker_store_url,
    )  # fmt: skip
    app = create_app(settings)
    with TestClient(app) as client:
        yield client


async def setup(maker: async_sessionmaker[AsyncSession]) -> tuple[dict[str, str], Person]:
    tag = uuid.uuid4().hex[:6]
    users = {"admin": f"dpo-{tag}@example.org", "agent": f"agent-{tag}@example.org"}
    async with maker() as session:
        for role, username in users.items():
            await auth_service.create_user(
                session=session, username=username, password=PASSWORD, display_name=role.title(), role=Role(role)
            )
        person = await build(session)
        await session.commit()
    return users, person


def login(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    response = client.post("/agent/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


API = "/agent/api/admin/gdpr"


async def test_search_export_erase_and_audit(committed: async_sessionmaker[AsyncSession]) -> None:
    users, person = await setup(committed)
    rasa = FakeRasa()
    try:
        with gateway(committed, rasa.url) as client:
            csrf = login(client, users["admin"])
            [found] = client.get(f"{API}/debtors", params={"q": person.reference.lower()}).json()["items"]
            assert found["id"] == person.debtor_id and found["name"] == person.name and not found["erased"]
            assert found["rows"]["messages"] == 3 and found["rows"]["ledger_entries"] >= 4
            assert client.get(f"{API}/debtors", params={"q": "ZZ-999999x"}).json() == {"items": []}

            download = client.get(f"{API}/debtors/{person.debtor_id}/export")
            assert download.status_code == 200
            assert download.headers["content-disposition"].startswith(
                f'attachment; filename="debtor-{person.debtor_id}-'
            )
            assert download.json()["tables"]["debtors"][0]["email"] == person.email
            assert client.get(f"{API}/debtors/999999/export").status_code == 404

            wrong = {"confirm_reference": "ZZ-000000", "reason": "asked by letter"}
            refused = client.post(f"{API}/debtors/{person.debtor_id}/erase", json=wrong, headers=csrf)
            assert refused.status_code == 422 and refused.json() == {"detail": "confirmation_mismatch"}
            body = {"confirm_reference": person.reference.lower(), "reason": "asked by letter"}
            erased = client.post(f"{API}/debtors/{person.debtor_id}/erase", json=body, headers=csrf).json()
            assert erased["created"] and erased["erasure"]["status"] == "completed"
            assert erased["erasure"]["detail"]["rasa"] == {"cleared": 3, "failed": []}
            assert sorted(rasa.puts) == sorted(
                (f"/conversations/{c}/tracker/events?include_events=NONE", []) for c in person.conversation_ids
            )
            again = client.post(f"{API}/debtors/{person.debtor_id}/erase", json=body, headers=csrf).json()
            assert not again["created"] and again["erasure"]["id"] == erased["erasure"]["id"]
            assert client.get(f"{API}/debtors/{person.debtor_id}").json()["name"] == "erased"
            listed = client.get(f"{API}/erasures").json()["items"]
            assert listed[0]["id"] == erased["erasure"]["id"] and listed[0]["requested_by"] == users["admin"]

            retention = client.get(f"{API}/retention").json()
            assert {row["country"] for row in retention["countries"]} == {"GB", "SE", "DE", "BR"}
            assert client.post(f"{API}/retention/run", headers=csrf).json() == {
                "messages": 0, "inbound_events": 0, "rasa_events_deleted": 0, "rasa_trackers_reset": 0, "rasa_failed": 0
            }  # fmt: skip

            mine = {"action": "gdpr.", "actor": users["admin"]}
            log = client.get(f"{API}/audit", params={**mine, "per_page": 2}).json()
            assert log["total"] == 9 and log["pages"] == 5 and len(log["items"]) == 2
            actions = [(e["action"], e["status_code"]) for e in log["items"]]
            for page in (2, 3, 4, 5):
                more = client.get(f"{API}/audit", params={**mine, "per_page": 2, "page": page}).json()["items"]
                actions += [(e["action"], e["status_code"]) for e in more]
            assert actions == [  # reads of a debtor too (people/audit/reads.py), also the one not found
                ("gdpr.run_retention", 200),
                ("gdpr.get_debtor", 200),
                ("gdpr.erase_debtor", 200),  # the repeat: nothing changed, still recorded
                ("gdpr.erase_debtor", 200),
                ("gdpr.erase_debtor", 422),  # the wrong confirmation
                ("gdpr.export", 404),
                ("gdpr.export", 200),
                ("gdpr.find_debtors", 200),
                ("gdpr.find_debtors", 200),
            ]
            erase_event = client.get(f"{API}/audit", params={**mine, "per_page": 2, "page": 2}).json()["items"][1]
            assert (erase_event["target_type"], erase_event["target_id"]) == ("debtor", str(person.debtor_id))
            assert erase_event["detail"] == {
                "erasure_id": erased["erasure"]["id"],
                "status": "completed",
                "created": True,
            }
            exports = client.get(f"{API}/audit", params={"action": "gdpr.export", "actor": users["admin"]}).json()
            [export] = [e for e in exports["items"] if e["status_code"] == 200]
            assert export["detail"]["tables"]["debtors"] == 1
            assert export["target_type"] == "debtor" and export["target_id"] == str(person.debtor_id)
            assert "gdpr.export" in log["actions"]
            bad = client.get(f"{API}/audit", params={"from": "2026-02-02", "to": "2026-02-01"})
            assert bad.status_code == 422

            login(client, users["agent"])
            assert client.get(f"{API}/debtors", params={"q": person.reference}).status_code == 403
            assert client.get(f"{API}/audit").status_code == 403
            client.cookies.clear()
            assert client.get(f"{API}/debtors/{person.debtor_id}/export").status_code == 401
    finally:
        rasa.close()


async def test_rasa_unreachable_is_reported_and_can_be_retried(committed: async_sessionmaker[AsyncSession]) -> None:
    users, person = await setup(committed)
    with gateway(committed, f"http://127.0.0.1:{free_port()}") as client:
        csrf = login(client, users["admin"])
        body = {"confirm_reference": person.reference, "reason": "asked on the phone"}
        erasure = client.post(f"{API}/debtors/{person.debtor_id}/erase", json=body, headers=csrf).json()["erasure"]
        assert erasure["status"] == "completed"
        assert erasure["detail"]["rasa"] == {"cleared": 0, "failed": sorted(person.conversation_ids)}
    rasa = FakeRasa()
    try:
        with gateway(committed, rasa.url) as client:
            csrf = login(client, users["admin"])
            retried = client.post(f"{API}/erasures/{erasure['id']}/rasa", headers=csrf).json()
            assert retried["detail"]["rasa"] == {"cleared": 3, "failed": []}
            assert client.post(f"{API}/erasures/999999/rasa", headers=csrf).status_code == 404
    finally:
        rasa.close()


async def test_erase_deletes_the_conversations_from_rasas_sql_tracker_store(
    committed: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The SQL store only appends, so PUT [] is not enough: the rows themselves are deleted, only
    the debtor's; an unreachable store is reported as failed (not success) and can be retried."""
    users, person = await setup(committed)
    store = f"sqlite:///{tmp_path / 'rasa-trackers.db'}"
    await create_rasa_events(store)
    for conversation_id in person.conversation_ids:
        await add_events(
            store, conversation_id, texts=[person.reference, person.date_of_birth.isoformat(), person.name]
        )
    stranger = str(uuid.uuid4())
    await add_events(store, stranger, texts=["SE-100234"])
    rasa = FakeRasa()
    try:
        unreachable = f"postgresql://nobody@127.0.0.1:{free_port()}/rasa"
        with gateway(committed, rasa.url, tracker_store_url=unreachable) as client:
            csrf = login(client, users["admin"])
            body = {"confirm_reference": person.reference, "reason": "asked by email"}
            erasure = client.post(f"{API}/debtors/{person.debtor_id}/erase", json=body, headers=csrf).json()["erasure"]
            assert erasure["status"] == "completed"
            report = erasure["detail"]["rasa"]
            assert report["cleared"] == 0 and report["failed"] == sorted(person.conversation_ids)
            assert report["tracker_store_error"]
        assert set(await senders(store)) == {*person.conversation_ids, stranger}  # nothing claimed, nothing done

        with gateway(committed, rasa.url, tracker_store_url=store) as client:
            csrf = login(client, users["admin"])
            retried = client.post(f"{API}/erasures/{erasure['id']}/rasa", headers=csrf).json()
            assert retried["detail"]["rasa"] == {"cleared": 3, "failed": [], "events_deleted": 9}
        assert await senders(store) == {stranger: 1}
        assert len(rasa.puts) == 6  # the in-memory path each time too
    finally:
        rasa.close()
