"""Issue 14 point 7, console and production hygiene, on the real processes (tests/stack.py: Rasa,
action server, gateway and worker, not a demo): the API docs are refused to anonymous users, a
verification from months ago (a recycled number) shows no profile in the console, agents' reads
are in the audit log; and neither compose nor anything but `make run` seeds the demo debtors."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from playwright.sync_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import make_engine, utcnow
from engine.conversations import service as conversations_service
from engine.conversations.models import Direction
from handoff import service as handoff_service
from handoff.models import Reason
from people.audit import service as audit_service
from people.auth import service as auth_service
from people.auth.models import Role
from people.identity import service as identity_service
from tests.handoff.test_console_browser import Console, create_agent, expect
from tests.own_debtor import add_own_debtor
from tests.stack import Stack

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
T = TypeVar("T")


def on_database(stack: Stack, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One short transaction on the stack's own database (the processes keep running)."""

    async def go() -> T:
        engine = make_engine(stack.database_url)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    # A thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, go()).result()


def console(stack: Stack, role: Role = Role.AGENT) -> tuple[httpx.Client, str]:
    """A logged-in staff member on the real gateway, and their username."""
    username = f"hygiene-{uuid.uuid4().hex[:8]}@example.org"

    async def create(session: AsyncSession) -> None:
        await auth_service.create_user(
            session=session, username=username, password=PASSWORD, display_name="Hygiene", role=role
        )

    on_database(stack, create)
    client = httpx.Client(base_url=stack.gateway_url, timeout=30)
    login = client.post("/agent/api/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return client, username


def sms_asking_for_a_person(stack: Stack, *, verified_minutes_ago: float | None) -> tuple[str, str]:
    """An SMS conversation in the queue whose number verified as an Emily of its own (a twin of the
    demo debtor, so no other test sees this verification) that long ago (months: the previous owner
    of a recycled number), and that wrote again a minute ago; its id and her name."""

    async def build(session: AsyncSession) -> tuple[str, str]:
        now = utcnow()
        chat = await conversations_service.get_or_create(
            session=session, channel="sms", external_id=f"hygiene-{uuid.uuid4().hex}"
        )
        await session.flush()
        emily = await add_own_debtor(session=session)
        if verified_minutes_ago is not None:
            await identity_service.verify(
                session=session, conversation_id=chat.id, reference=emily.reference,
                date_of_birth=emily.date_of_birth, now=now - timedelta(minutes=verified_minutes_ago),
            )  # fmt: skip
        await conversations_service.add_message(
            session=session, conversation=chat, direction=Direction.INBOUND, text="can I talk to someone",
            now=now - timedelta(minutes=1),
        )  # fmt: skip
        await handoff_service.escalate(
            session=session, conversation_id=chat.id, reason=Reason.REQUEST_HUMAN, actor="bot"
        )
        return chat.id, emily.name

    return on_database(stack, build)


def test_anonymous_users_get_no_api_docs_outside_a_demo(stack: Stack) -> None:
    assert stack.env().get("ASSISTANT_ENV", "production") != "demo"  # the stack runs like production
    for path in ("/docs", "/redoc", "/openapi.json"):
        response = httpx.get(f"{stack.gateway_url}{path}", timeout=30)
        assert response.status_code == 404, path
        assert "/webchat/messages" not in response.text and "swagger" not in response.text.lower()
    assert httpx.get(f"{stack.gateway_url}/agent/openapi.json", timeout=30).status_code == 401
    client, _ = console(stack)
    schema = client.get("/agent/openapi.json")
    assert schema.status_code == 200 and "/agent/api/queue" in schema.json()["paths"]


def test_a_verification_from_months_ago_does_not_show_the_debtor(stack: Stack) -> None:
    recycled, previous_owner = sms_asking_for_a_person(stack, verified_minutes_ago=120 * 24 * 60)
    current, emily = sms_asking_for_a_person(stack, verified_minutes_ago=10)
    client, _ = console(stack)

    old = client.get(f"/agent/api/conversations/{recycled}").json()
    assert old["debtor"] is None, "a previous owner's profile was shown"
    assert old["conversation"]["verified"] is False and old["conversation"]["verified_at"] is None
    assert old["conversation"]["last_verified_at"]
    assert "Emily" not in str(old) and previous_owner not in str(old)

    fresh = client.get(f"/agent/api/conversations/{current}").json()
    assert fresh["conversation"]["verified"] is True and fresh["conversation"]["verified_at"]
    assert fresh["debtor"]["name"] == emily

    queue = {i["conversation_id"]: i for i in client.get("/agent/api/queue").json()["items"]}
    assert (queue[recycled]["verified"], queue[recycled]["debtor_name"]) == (False, None)
    assert (queue[current]["verified"], queue[current]["debtor_name"]) == (True, emily)


@pytest.mark.browser
def test_the_console_page_says_when_a_verification_is_old(stack: Stack, browser: Browser) -> None:
    recycled, _ = sms_asking_for_a_person(stack, verified_minutes_ago=120 * 24 * 60)
    current, emily = sms_asking_for_a_person(stack, verified_minutes_ago=10)
    console = Console(browser, stack)
    try:
        console.login(create_agent(stack, "Hygiene Agent"))
        page = console.page
        page.locator(f'.queue-item[data-conversation-id="{recycled}"]').click()
        expect(page.locator("#debtor")).to_contain_text("Not verified (last verified ")
        expect(page.locator("#debtor")).not_to_contain_text("Emily")
        expect(page.locator("#conversation-title")).to_contain_text("Unverified debtor")
        page.locator(f'.queue-item[data-conversation-id="{current}"]').click()
        expect(page.locator("#debtor")).to_contain_text("Verified in this conversation ")
        expect(page.locator("#debtor")).to_contain_text(emily)
        assert console.errors == []
    finally:
        console.close()


def test_an_agents_reads_are_in_the_audit_log(stack: Stack) -> None:
    chat, _ = sms_asking_for_a_person(stack, verified_minutes_ago=None)
    client, username = console(stack)
    assert client.get("/agent/api/queue").status_code == 200
    assert client.get(f"/agent/api/conversations/{chat}").status_code == 200

    async def rows_of(session: AsyncSession) -> list[tuple[str, str | None, str | None, Any]]:
        events, _ = await audit_service.search(
            session=session, filters=audit_service.Filters(actor=username, action="handoff.")
        )
        return [(e.action, e.target_type, e.target_id, e.detail) for e in reversed(events)]

    rows = on_database(stack, rows_of)
    assert [(action, kind, ident) for action, kind, ident, _ in rows] == [
        ("handoff.get_queue", None, None),
        ("handoff.get_conversation", "conversation", chat),
    ]
    assert chat in rows[0][3]["conversations"]  # which conversations the queue showed


def test_compose_never_seeds_demo_data_and_only_make_run_does() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for name, service in compose["services"].items():
        command = service.get("command") or []
        text = command if isinstance(command, str) else " ".join(map(str, command))
        assert "seed" not in text, f"compose service {name} seeds: {text}"
        environment = service.get("environment") or {}
        values = environment.values() if isinstance(environment, dict) else environment
        assert not any("demo" in str(v).lower() for v in values), name
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^db:.*\n(\t.*\n)*\t.*app\.manage seed --demo$", makefile, re.MULTILINE)
    assert re.search(r"^run: export ASSISTANT_ENV \?= demo$", makefile, re.MULTILINE)
    seeds = [line for line in makefile.splitlines() if "app.manage seed" in line]
    assert seeds and all("--demo" in line for line in seeds)
