"""Issue 14, point 5 — the payments sandbox by opt-in only, against the real processes.

The finding: without STRIPE_SECRET_KEY the sandbox switched itself on, so in any deployment that
forgot a key a verified debtor could open the link, press Pay and have the debt booked as paid
with no money moved. Now a stack without keys and without PAYMENTS_SANDBOX answers "pay" with
"card payment is not available here" and a plan, a promise or a person; every sandbox route is a
404 (a sandbox checkout left from a run with the flag included) and no webhook is accepted. With
the flag (the shared test stack, like `make run`) the sandbox still works end to end.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from core.database import make_engine
from locales import Catalog
from money.ledger import service as ledger_service
from money.ledger.models import LedgerTransaction
from payments import service as payments_service
from payments.config import PaymentSettings
from payments.models import Payment, PaymentStatus
from payments.providers import SandboxProvider
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from tests.own_debtor import add_own_debtor, own_debtor
from tests.security.stacks import SecurityStack
from tests.stack import Stack

pytestmark = pytest.mark.e2e
catalog = Catalog()
OPTIONS = ["/request_payment_plan", "/promise_to_pay", "/request_human"]


@pytest.fixture
def bare(security_sqlite_stack: SecurityStack) -> SecurityStack:
    """A deployment that forgot its Stripe keys: no keys, no PAYMENTS_SANDBOX (the security tests'
    SQLite stack, tests/security/stacks.py)."""
    assert security_sqlite_stack.without_payments
    return security_sqlite_stack


def verify(stack: Stack, session: str) -> list[dict]:
    """An Emily of this test's own (a twin of the demo debtor) asks to pay and verifies; the replies
    to her date of birth."""
    emily = own_debtor(stack.database_url)
    stack.say(session, "hello")
    asked = stack.say(session, "i want to pay")
    assert catalog.text("utter_ask_reference", "en") in [m["text"] for m in asked]
    stack.say(session, emily.reference)
    return stack.say(session, "21/07/1992")


async def _leftover_sandbox_checkout(url: str, workdir: Path) -> Payment:
    """A sandbox checkout as a run with the flag would have left it (the provider called directly)."""
    engine = make_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        emily = await session.get(Debtor, (await add_own_debtor(session=session)).id)
        assert emily
        settings = PaymentSettings(payments_sandbox=True, sandbox_secret_file=workdir / "sandbox-webhook-secret")
        [payment] = await payments_service.start_checkouts(
            session=session, provider=SandboxProvider(settings), debtor=emily, debt_ids=None, conversation_id=None,
            locale="en", descriptions={}, success_url="http://x", cancel_url="http://x", amount_minor=1000,
        )  # fmt: skip
        await session.commit()
    await engine.dispose()
    settings.webhook_secret()  # and its signing secret, on disk where the sandbox keeps it
    return payment


async def _booked(url: str, payment_id: int) -> tuple[PaymentStatus, int]:
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        payment = await session.get(Payment, payment_id)
        assert payment is not None
        count = await session.scalar(select(func.count()).select_from(LedgerTransaction))
    await engine.dispose()
    return payment.status, int(count or 0)


def test_without_keys_or_flag_pay_offers_a_plan_a_promise_or_a_person(bare: Stack) -> None:
    replies = verify(bare, f"nopay-{uuid.uuid4().hex}")
    unavailable = catalog.render("utter_card_payment_unavailable", "en", None, {})
    assert replies[-1]["text"] == unavailable.text
    assert [b["payload"] for b in replies[-1]["buttons"]] == OPTIONS
    assert not any(re.search(r"https?://", m["text"]) for m in replies)  # no payment link at all
    # nor the startup line saying it is on (the whole log: the stack is shared, its start long past)
    assert "SANDBOX" not in (bare.workdir / "gateway.log").read_text(errors="replace")


def test_without_the_flag_every_sandbox_route_is_404_and_nothing_is_booked(bare: Stack) -> None:
    payment = asyncio.run(_leftover_sandbox_checkout(bare.database_url, bare.workdir))
    before = asyncio.run(_booked(bare.database_url, payment.id))
    base = f"{bare.gateway_url}/payments/sandbox/checkout"
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        for session_id in (payment.checkout_session_id, "cs_sandbox_unknown", "anything"):
            assert client.get(f"{base}/{session_id}").status_code == 404
            for choice in ("pay", "decline"):
                assert client.post(f"{base}/{session_id}/{choice}").status_code == 404
        # The sandbox's own secret signs no valid event when the sandbox is off.
        secret = (bare.workdir / "sandbox-webhook-secret").read_text().strip()
        event = {
            "id": f"evt_sandbox_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
            "data": {"object": {"id": payment.checkout_session_id, "object": "checkout.session",
                                "payment_status": "paid", "amount_total": payment.amount_minor, "currency": "gbp",
                                "metadata": {"payment_id": str(payment.id)}}},
        }  # fmt: skip
        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(body, secret)  # type: ignore[attr-defined]
        webhook = client.post(
            f"{bare.gateway_url}/payments/stripe/webhook",
            content=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
        assert webhook.status_code == 400
    assert asyncio.run(_booked(bare.database_url, payment.id)) == before
    assert before[0] is PaymentStatus.PENDING


def test_with_the_flag_the_sandbox_works(stack: Stack) -> None:
    """The shared test stack runs with PAYMENTS_SANDBOX=true, as `make run` does (a debtor of this
    test's own, so other tests on the shared stack keep their exact totals)."""
    assert "Payments: SANDBOX on" in stack.tail("gateway", 400)
    reference = asyncio.run(_own_debtor(stack.database_url))
    session = f"sandbox-{uuid.uuid4().hex}"
    stack.say(session, "hello")
    stack.say(session, "i want to pay")
    stack.say(session, reference)
    replies = stack.say(session, "01/01/1970")
    link = re.search(r"https?://\S+/payments/sandbox/checkout/cs_sandbox_\S+", "\n".join(m["text"] for m in replies))
    assert link, replies
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        page = client.get(link.group())
        assert page.status_code == 200 and "TEST MODE" in page.text and "No real money moves" in page.text
        assert client.post(link.group() + "/pay").status_code == 303
    checkout_session_id = link.group().rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    while asyncio.run(_status(stack.database_url, checkout_session_id)) is not PaymentStatus.SUCCEEDED:
        assert time.monotonic() < deadline, "the sandbox payment was never booked"
        time.sleep(0.5)


async def _own_debtor(url: str) -> str:
    reference = f"SB-{uuid.uuid4().int % 10**6:06d}"
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        debt = Debt(creditor="Gamma Water", reference=f"GW-{reference}", currency="GBP", due_date=date(2026, 9, 1),
                    components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal("25.00"))])  # fmt: skip
        debtor = Debtor(reference=reference, name="Sam Sandbox", date_of_birth=date(1970, 1, 1), locale="en",
                        timezone="Europe/London", debts=[debt])  # fmt: skip
        session.add(debtor)
        await session.flush()
        await ledger_service.open_debt(
            session=session, debt=debt, components=[(c.kind.value, c.amount) for c in debt.components]
        )
        await session.commit()
    await engine.dispose()
    return reference


async def _status(url: str, checkout_session_id: str) -> PaymentStatus | None:
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        status = await session.scalar(select(Payment.status).where(Payment.checkout_session_id == checkout_session_id))
    await engine.dispose()
    return status
