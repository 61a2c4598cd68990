"""Issue 14, point 6 — GDPR erase reaches Rasa's SQL tracker store, on the real processes.

The finding: `PUT /conversations/<id>/tracker/events []` answers 200, but Rasa's SQL tracker
store only appends, so typed references, birth dates, names and balances stayed in Rasa's
`events` table (docker-compose, RASA_INSTANCES>1); the old test only checked that the PUT was
sent, against a fake. Here Rasa runs on bot/endpoints-sharded.yml (the SQL tracker store, on
SQLite and on PostgreSQL, as compose runs it; tests/security/stacks.py), a debtor verifies and reads their balance, an admin
erases them through the admin API, and then Rasa's tracker API holds none of the conversation and
a dump of Rasa's whole database holds none of the debtor's details.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from core.database import make_engine
from engine.conversations.models import Conversation
from money.ledger import service as ledger_service
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from tests.security.stacks import SecurityStack
from tests.stack import ROOT

pytestmark = pytest.mark.e2e
PASSWORD = f"erase-rasa-{uuid.uuid4().hex}"
BIRTH = date(1971, 4, 3)
TYPED_BIRTH = "03/04/1971"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sql_stack(request: pytest.FixtureRequest) -> SecurityStack:
    """The security stacks with Rasa on the SQL tracker store (tests/security/stacks.py): services
    and Rasa on SQLite, or both on PostgreSQL."""
    return request.getfixturevalue(f"security_{request.param}_stack")


async def _debtor(url: str) -> dict[str, str]:
    """A debtor of this test's own: every detail unique, so a dump can be searched for it."""
    tag = uuid.uuid4().int
    first, last = f"Ottilie{tag % 10**5:05d}", f"Quarrington{tag % 10**7:07d}"
    reference = f"ER-{tag % 10**6:06d}"
    amount = Decimal(f"{500 + tag % 400}.{tag % 89 + 10}")
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        debt = Debt(creditor="Delta Broadband", reference=f"DB-{tag % 10**7:07d}", currency="GBP",
                    due_date=date(2026, 9, 1),
                    components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=amount)])  # fmt: skip
        debtor = Debtor(reference=reference, name=f"{first} {last}", date_of_birth=BIRTH, locale="en",
                        timezone="Europe/London", debts=[debt])  # fmt: skip
        session.add(debtor)
        await session.flush()
        debtor_id = debtor.id
        await ledger_service.open_debt(
            session=session, debt=debt, components=[(c.kind.value, c.amount) for c in debt.components]
        )
        await session.commit()
    await engine.dispose()
    return {"id": str(debtor_id), "reference": reference, "first": first, "last": last, "amount": f"{amount}"}


def details(who: dict[str, str]) -> list[str]:
    """What must not survive: the reference, the birth date as typed and as read, the name, the
    balance (also as Babel writes it with a thousands separator, should it be over 999)."""
    return [
        who["reference"], TYPED_BIRTH, BIRTH.isoformat(), BIRTH.strftime("%d.%m.%Y"), who["first"], who["last"],
        who["amount"],
    ]  # fmt: skip


def rasa_dump(stack: SecurityStack) -> str:
    """Every row of every table in Rasa's database (and, for SQLite, the raw file too)."""
    url = stack.tracker_store_url
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        with sqlite3.connect(path) as db:
            dump = "\n".join(db.iterdump())
        return dump + "\n" + path.read_bytes().decode("latin-1")

    async def pg() -> str:
        connection = await asyncpg.connect(url)
        try:
            tables = await connection.fetch(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name "
                "FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            lines = []
            for table in tables:
                rows = await connection.fetch(f"SELECT t::text AS row FROM {table['name']} t")
                lines += [f"{table['name']}: {r['row']}" for r in rows]
            return "\n".join(lines)
        finally:
            await connection.close()

    return asyncio.run(pg())


def admin(stack: SecurityStack) -> tuple[httpx.Client, dict[str, str]]:
    username = f"dpo-{uuid.uuid4().hex[:8]}@example.org"
    subprocess.run(
        [sys.executable, "-m", "app.manage", "create-staff", "--username", username, "--display-name", "DPO",
         "--role", "admin"],
        cwd=ROOT, env={**stack.env(), "STAFF_PASSWORD": PASSWORD}, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    client = httpx.Client(base_url=stack.gateway_url, timeout=60)
    login = client.post("/agent/api/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return client, {"X-CSRF-Token": login.json()["csrf_token"]}


def tracker(stack: SecurityStack, conversation_id: str) -> dict:
    response = httpx.get(
        f"http://127.0.0.1:{stack.ports['rasa']}/conversations/{conversation_id}/tracker",
        params=stack.rasa_auth,
        timeout=60,
    )
    response.raise_for_status()
    return response.json()


def conversation_of(stack: SecurityStack, session_id: str) -> str:
    async def query() -> str:
        engine = make_engine(stack.database_url)
        try:
            async with AsyncSession(engine) as session:
                found = select(Conversation.id).where(
                    Conversation.channel == "webchat", Conversation.external_id == session_id
                )
                return (await session.execute(found)).scalar_one()
        finally:
            await engine.dispose()

    return asyncio.run(query())


def test_erase_leaves_nothing_of_the_debtor_in_rasas_sql_tracker_store(sql_stack: SecurityStack) -> None:
    who = asyncio.run(_debtor(sql_stack.database_url))
    session_id = f"erase-{uuid.uuid4().hex}"
    sql_stack.say(session_id, "hello")
    sql_stack.say(session_id, "how much do i owe")
    sql_stack.say(session_id, who["reference"])
    balance = "\n".join(m["text"] for m in sql_stack.say(session_id, TYPED_BIRTH)).replace("\xa0", " ")
    assert who["first"] in balance and who["amount"] in balance.replace(",", "")  # verified, balance shown
    conversation_id = conversation_of(sql_stack, sql_stack.address(session_id))

    # Before: Rasa's tracker and its database hold all of it (the test can see what it looks for).
    before = json.dumps(tracker(sql_stack, conversation_id))
    assert who["reference"] in before and TYPED_BIRTH in before
    dump = rasa_dump(sql_stack)
    assert conversation_id in dump
    assert all(detail in dump for detail in (who["reference"], TYPED_BIRTH, who["first"], who["amount"]))

    client, csrf = admin(sql_stack)
    erased_at = time.time()
    try:
        erased = client.post(
            f"/agent/api/admin/gdpr/debtors/{who['id']}/erase",
            json={"confirm_reference": who["reference"], "reason": "asked in writing"},
            headers=csrf,
        )
    finally:
        client.close()
    assert erased.status_code == 200, erased.text
    erasure = erased.json()["erasure"]
    assert erasure["status"] == "completed"
    assert erasure["detail"]["rasa"]["failed"] == [] and erasure["detail"]["rasa"]["events_deleted"] > 10

    # After: Rasa's tracker API returns no event of the conversation. (Rasa answers a read of an
    # unknown conversation by starting a new session: only that session's own events, all newer
    # than the erasure — its start, the AI disclosure, listening — and no slot of the debtor's.)
    after = tracker(sql_stack, conversation_id)
    assert all(e["timestamp"] > erased_at for e in after["events"])
    assert [e["event"] for e in after["events"] if e["event"] in ("user", "slot", "active_loop")] == []
    assert [e["metadata"].get("utter_action") for e in after["events"] if e["event"] == "bot"] in (
        [],
        ["utter_ai_disclosure"],
    )
    assert not any(after["slots"].get(slot) for slot in ("verified", "reference", "dob"))
    flat = json.dumps(after)
    assert not [detail for detail in details(who) if detail in flat]
    # ... and a dump of Rasa's whole database holds none of the debtor's details.
    dump = rasa_dump(sql_stack)
    assert not [detail for detail in details(who) if detail in dump]
