"""The audit middleware on the whole gateway (create_app), on committing SQLite and PostgreSQL
databases: who did what is recorded for logins (failed ones with the name tried), take-overs,
replies, admin actions, refusals and logouts — never a password, token or text — and recording
never gets in the way of the request (no SQLite lock waits, no error when the insert fails)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from app.main import create_app
from core.database import Base
from engine.conversations import service as conversations_service
from handoff import service as handoff_service
from handoff.models import Reason
from people.audit import service as audit_service
from people.audit.models import AuditEvent
from people.auth import service as auth_service
from people.auth.models import Role
from tests.stack import free_port

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def fresh_lockout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_service, "LOCKOUT", auth_service.Lockout())


def _url(maker: async_sessionmaker[AsyncSession]) -> str:
    return maker.kw["bind"].url.render_as_string(hide_password=False)  # type: ignore[no-any-return]


@contextmanager
def gateway(maker: async_sessionmaker[AsyncSession]) -> Iterator[TestClient]:
    """The real app, with the middleware added the way app/main.py adds it."""
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=_url(maker), rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5,
        rasa_timeout_seconds=0.5,
    )  # fmt: skip
    app = create_app(settings)
    with TestClient(app) as client:
        yield client


async def _staff(maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    names = {"agent": f"agent-{tag}@example.org", "admin": f"admin-{tag}@example.org"}
    async with maker() as session:
        for role, username in names.items():
            await auth_service.create_user(
                session=session, username=username, password=PASSWORD, display_name=role.title(), role=Role(role)
            )
        await session.commit()
    return names


async def _queued(maker: async_sessionmaker[AsyncSession]) -> str:
    async with maker() as session:
        chat = await conversations_service.get_or_create(
            session=session, channel="webchat", external_id=f"audit-{uuid.uuid4().hex}"
        )
        await handoff_service.escalate(
            session=session, conversation_id=chat.id, reason=Reason.REQUEST_HUMAN, actor="bot"
        )
        await session.commit()
        return chat.id


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    client.cookies.clear()
    response = client.post("/agent/api/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


async def _events(maker: async_sessionmaker[AsyncSession], since_id: int) -> list[AuditEvent]:
    async with maker() as session:
        return list(
            (await session.scalars(select(AuditEvent).where(AuditEvent.id > since_id).order_by(AuditEvent.id))).all()
        )


async def _last_id(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        return int(await session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0)


async def test_staff_actions_are_recorded_with_their_actor(committed: async_sessionmaker[AsyncSession]) -> None:
    users = await _staff(committed)
    conversation = await _queued(committed)
    start = await _last_id(committed)
    reply_text = f"reply text {uuid.uuid4().hex}"
    wrong = f"wrong-password-{uuid.uuid4().hex}"
    secrets: list[str] = [PASSWORD, wrong, reply_text]

    with gateway(committed) as client:
        assert (
            client.post("/agent/api/login", json={"username": users["agent"].upper(), "password": wrong}).status_code
            == 401
        )
        csrf = login(client, users["agent"])
        secrets += [csrf, client.cookies.get("da_staff") or "missing"]
        headers = {"X-CSRF-Token": csrf}
        assert client.post(f"/agent/api/conversations/{conversation}/take", headers=headers).status_code == 200
        sent = client.post(f"/agent/api/conversations/{conversation}/reply", json={"text": reply_text}, headers=headers)
        assert sent.status_code == 200, sent.text
        assert client.post("/agent/api/staff", json={"username": "x@example.org", "password": PASSWORD,
                                                     "display_name": "X"}, headers=headers).status_code == 403  # fmt: skip
        assert client.get("/agent/api/admin/gdpr/audit").status_code == 403
        assert client.post("/agent/api/logout", headers=headers).status_code == 204
        assert client.get("/agent/api/me").status_code == 401  # the console's own check: not an attempt
        assert client.post(f"/agent/api/conversations/{conversation}/take").status_code == 401

        admin_csrf = login(client, users["admin"])
        secrets.append(admin_csrf)
        new_staff = {"username": f"new-{uuid.uuid4().hex[:6]}@example.org", "password": "another long password",
                     "display_name": "New Person", "role": "agent"}  # fmt: skip
        secrets.append(new_staff["password"])
        created = client.post("/agent/api/staff", json=new_staff, headers={"X-CSRF-Token": admin_csrf})
        assert created.status_code == 201
        assert client.get("/agent/api/admin/gdpr/debtors/1/export").status_code == 200

    agent, admin = users["agent"], users["admin"]
    events = await _events(committed, start)
    by = [(e.action, e.actor_username, e.status_code) for e in events]
    assert by == [
        ("auth.login", agent, 401),
        ("auth.login", agent, 200),
        ("handoff.take", agent, 200),
        ("handoff.reply", agent, 200),
        ("auth.create_staff", agent, 403),
        ("gdpr.audit_log", agent, 403),
        ("auth.logout", agent, 204),
        ("handoff.take", None, 401),
        ("auth.login", admin, 200),
        ("auth.create_staff", admin, 201),
        ("gdpr.export", admin, 200),
    ]
    failed, ok = events[0], events[1]
    assert failed.actor_id is None and failed.detail == {"username": agent.upper()}
    assert ok.actor_id is not None and ok.actor_role == "agent" and ok.ip == "testclient"
    assert events[2].target_type == "conversation" and events[2].target_id == conversation
    assert events[6].actor_id == ok.actor_id  # logout: resolved before the session ended
    assert events[9].detail == {"username": new_staff["username"], "role": "agent", "display_name": "New Person"}
    assert events[10].target_type == "debtor" and events[10].target_id == "1"

    async with committed() as session:
        dump = "\n".join(
            str(tuple(row)) for row in (await session.execute(select(Base.metadata.tables["audit_events"]))).all()
        )
    leaked = [s for s in secrets if s in dump]
    assert leaked == [], f"secrets in the audit log: {leaked}"


async def test_a_failing_audit_insert_never_breaks_the_request(
    committed: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    users = await _staff(committed)

    async def broken(**_: object) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit_service, "record", broken)
    # Alembic's fileConfig (the fixture migrated in-process) disables loggers that already existed.
    monkeypatch.setattr(logging.getLogger("people.audit.middleware"), "disabled", False)
    with gateway(committed) as client, caplog.at_level(logging.ERROR, logger="people.audit.middleware"):
        csrf = login(client, users["admin"])
        assert client.post("/agent/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert any(r.getMessage() == "audit.record_failed" for r in caplog.records)
