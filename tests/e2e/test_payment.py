"""A verified debtor pays one of two debts through the sandbox checkout, then sees the rest."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.sync.client import connect

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from core.database import make_engine
from locales import Catalog
from money.ledger import service as ledger_service
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from tests.stack import Stack
from tests.webchat import conversation_key

pytestmark = pytest.mark.e2e
catalog = Catalog()


async def _add_debtor(url: str) -> str:
    """A debtor of this test's own, so other tests on the shared stack keep their exact totals."""
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        reference = f"TP-{uuid.uuid4().int % 10**6:06d}"  # fresh: the test may run again on this stack
        debtor = Debtor(reference=reference, name="Tess Payer", date_of_birth=date(1970, 1, 1), locale="en",
                        timezone="Europe/London", email="tess@example.org")  # fmt: skip
        alpha = Debt(creditor="Alpha Energy", reference="AE-1", currency="GBP", due_date=date(2026, 9, 1),
                     components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal("100.00"))])  # fmt: skip
        beta = Debt(creditor="Beta Phone", reference="BP-2", currency="GBP", due_date=date(2026, 10, 1),
                    components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal("50.00")),
                                DebtComponent(kind=ComponentKind.FEES, amount=Decimal("10.00"))])  # fmt: skip
        debtor.debts = [alpha, beta]
        session.add(debtor)
        await session.flush()
        for debt in (alpha, beta):
            await ledger_service.open_debt(
                session=session, debt=debt, components=[(c.kind.value, c.amount) for c in debt.components]
            )
        await session.commit()
    await engine.dispose()
    return reference


def plain(messages: list[dict]) -> str:
    return "\n".join(m["text"] for m in messages).replace("\xa0", " ")


def test_pay_one_debt_in_the_sandbox_and_see_the_rest(stack: Stack) -> None:
    reference = asyncio.run(_add_debtor(stack.database_url))
    session = f"pay-{uuid.uuid4().hex}"
    stack.say(session, "hello")
    asked = stack.say(session, "i want to pay")
    assert asked[-1]["text"] == catalog.text("utter_ask_reference", "en")
    stack.say(session, reference)
    choose = stack.say(session, "01/01/1970")
    assert [m["text"] for m in choose] == [
        catalog.render("utter_verified", "en", None, {"name": "Tess"}).text,
        catalog.text("utter_pay_choose", "en"),
    ]
    buttons = {b["title"].replace("\xa0", " "): b["payload"] for b in choose[-1]["buttons"]}
    assert buttons == {
        "Alpha Energy: £100.00": '/pay_now{"debt_ref": "AE-1"}',
        "Beta Phone: £60.00": '/pay_now{"debt_ref": "BP-2"}',
        "Everything: £160.00": '/pay_now{"debt_ref": "all"}',
    }
    link_message = plain(stack.say(session, buttons["Beta Phone: £60.00"]))
    assert "£60.00" in link_message
    url = re.search(r"https?://\S+", link_message)
    assert url, link_message

    ws_url = stack.gateway_url.replace("http://", "ws://") + "/webchat/ws"  # the id goes in the hello frame
    with connect(ws_url) as chat, httpx.Client(timeout=30, follow_redirects=False) as client:
        chat.send(json.dumps({"type": "hello", "session_id": stack.chat.session(session)}))
        assert json.loads(chat.recv(timeout=30)) == {"type": "ready"}
        page = client.get(url.group())
        assert page.status_code == 200 and "TEST MODE" in page.text and "£60.00" in page.text.replace("\xa0", " ")
        paid = client.post(url.group() + "/pay")
        assert paid.status_code == 303
        pushed = json.loads(chat.recv(timeout=30))

    receipt = catalog.render(
        "utter_payment_receipt", "en", None,
        {"paid_money": {"amount": "60.00", "currency": "GBP"}, "totals": [{"amount": "100.00", "currency": "GBP"}]},
    ).text  # fmt: skip
    assert pushed == {"push": True, "messages": [{"text": receipt, "buttons": []}]}  # the open chat got it live
    path = stack.database_url.split("///", 1)[1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(path) as db:
            key = conversation_key(db, stack.chat.session(session))
            texts = [t for (t,) in db.execute(
                "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.external_id = ? AND m.direction = 'out' ORDER BY m.id", (key,))]  # fmt: skip
        if receipt in texts:
            break
        time.sleep(0.3)
    assert receipt in texts  # the receipt landed in the conversation (and was pushed to an open chat)

    balance = plain(stack.say(session, "how much do i owe now"))
    assert "Alpha Energy" in balance and "Beta Phone" not in balance
    assert catalog.render("balance_total_line", "en", None, {"amount": "£100.00"}).text in balance


def test_card_number_in_chat_is_redacted_and_warned(stack: Stack) -> None:
    session = f"card-{uuid.uuid4().hex}"
    stack.say(session, "hi")
    replies = stack.say(session, "here is my card 4242 4242 4242 4242 exp 12/29")
    assert replies[0]["text"] == catalog.text("utter_card_number_warning", "en")
    path = stack.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        stored = [t for (t,) in db.execute(
            "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.external_id = ?", (stack.address(session),))]  # fmt: skip
    assert not any("4242" in t for t in stored)
    assert any("[REDACTED CARD]" in t for t in stored)


def test_vulnerability_signals_are_stored_on_the_message(stack: Stack) -> None:
    session = f"signals-{uuid.uuid4().hex}"
    stack.say(session, "hello")
    stack.say(session, "my dad passed away last week and i lost my job")
    path = stack.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        (raw,) = db.execute(
            "SELECT m.signals FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.external_id = ? AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1",
            (stack.address(session),),
        ).fetchone()
    signals = json.loads(raw)
    assert {"bereavement", "job_loss"} <= set(signals["cues"]) and signals["vulnerable"] is True
    assert stack.health()["signals"]["detail"] == "lexicon-only"
