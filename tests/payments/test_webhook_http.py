"""The webhook endpoint in-process: signature checked by the SDK, receipts pushed to the chat."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from channels import sessions
from core.database import make_engine
from engine.conversations import service as conversations_service
from locales import Catalog
from money.ledger.models import LedgerTransaction
from payments import service as payments_service
from payments.models import ProcessedEvent
from payments.providers import SandboxProvider
from people.debtors import service as debtors_service
from people.debtors.seed import seed_demo
from tests.payments.conftest import completed
from tests.stack import free_port

LIFETIME = sessions.Lifetime.of(idle_minutes=60, max_hours=24)


async def _prepare(url: str, settings: GatewaySettings) -> dict[str, Any]:
    engine = make_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await seed_demo(session=session)
        session_id = await sessions.issue(session=session, lifetime=LIFETIME)  # the page's web chat session
        bound = await sessions.resolve(session=session, session_id=session_id, lifetime=LIFETIME)
        conversation = await conversations_service.get_or_create(
            session=session, channel="webchat", external_id=bound.conversation_key
        )
        conversation.locale = "en"
        emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
        assert emily
        [payment] = await payments_service.start_checkouts(
            session=session, provider=SandboxProvider(settings), debtor=emily, debt_ids=None, conversation_id=conversation.id,
            locale="en", descriptions={}, success_url="http://x", cancel_url="http://x", amount_minor=10000,
        )  # fmt: skip
        await session.commit()
    await engine.dispose()
    return {"payment": payment, "conversation_id": conversation.id, "session_id": session_id}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, GatewaySettings, dict[str, Any]]]:
    folder: Path = tmp_path_factory.mktemp("webhook")
    url = f"sqlite+aiosqlite:///{folder / 'db.sqlite'}"
    migrate(url)
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=url,
        rasa_url=dead,
        action_server_url=dead,
        sandbox_secret_file=folder / "secret",
        payments_sandbox=True,
        health_timeout_seconds=0.5,
    )
    data = asyncio.run(_prepare(url, settings))
    data["url"] = url
    with TestClient(create_app(settings)) as client:
        yield client, settings, data


def post(client: TestClient, body: bytes, header: str | None) -> int:
    headers = {"Content-Type": "application/json", **({"Stripe-Signature": header} if header else {})}
    return client.post("/payments/stripe/webhook", content=body, headers=headers).status_code


def counts(url: str) -> tuple[int, int]:
    async def run() -> tuple[int, int]:
        engine = make_engine(url)
        async with AsyncSession(engine) as session:
            events = await session.scalar(select(func.count()).select_from(ProcessedEvent))
            transactions = await session.scalar(select(func.count()).select_from(LedgerTransaction))
        await engine.dispose()
        return int(events or 0), int(transactions or 0)

    return asyncio.run(run())


def test_forged_or_unsigned_events_are_400_and_change_nothing(gateway) -> None:  # type: ignore[no-untyped-def]
    client, settings, data = gateway
    secret = settings.webhook_secret()
    body = json.dumps(completed(data["payment"], "pi_forged")).encode()
    before = counts(data["url"])
    tampered = body.replace(b'"amount_total": 10000', b'"amount_total": 99999')
    assert tampered != body
    stale = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, int(time.time()) - 3600)  # type: ignore[attr-defined]
    cases = [
        (body, None),
        (body, "garbage"),
        (body, stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_wrong")),  # type: ignore[attr-defined]
        (tampered, stripe.WebhookSignature.generate_signature_header(body.decode(), secret)),  # type: ignore[attr-defined]
        (body, stale),
        (b"not json", stripe.WebhookSignature.generate_signature_header("not json", secret)),  # type: ignore[attr-defined]
    ]
    assert [post(client, b, h) for b, h in cases] == [400] * len(cases)
    assert counts(data["url"]) == before


def test_signed_payment_books_and_pushes_a_receipt(gateway) -> None:  # type: ignore[no-untyped-def]
    client, settings, data = gateway
    body = json.dumps(completed(data["payment"], "pi_ok")).encode()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), settings.webhook_secret())  # type: ignore[attr-defined]
    with client.websocket_connect("/webchat/ws") as ws:
        ws.send_json({"type": "hello", "session_id": data["session_id"]})
        assert ws.receive_json() == {"type": "ready"}
        assert post(client, body, header) == 200
        frame = ws.receive_json()
    expected = Catalog().render(
        "utter_payment_receipt", "en", None,
        {"paid_money": {"amount": "100.00", "currency": "GBP"}, "totals": [{"amount": "512.45", "currency": "GBP"}]},
    ).text  # fmt: skip
    assert frame == {"push": True, "messages": [{"text": expected, "buttons": []}]}
    assert "£100.00" in expected and "£512.45" in expected
    assert post(client, body, header) == 200  # a replay is acknowledged, not booked again
    assert counts(data["url"])[1] == 5 + 1  # five openings (the demo debts) + one payment


def test_sandbox_checkout_page_is_clearly_a_test(gateway) -> None:  # type: ignore[no-untyped-def]
    client, _, data = gateway
    page = client.get(f"/payments/sandbox/checkout/{data['payment'].checkout_session_id}")
    assert page.status_code == 200
    assert "TEST MODE" in page.text
    assert client.get("/payments/sandbox/checkout/cs_sandbox_unknown").status_code == 404
    assert client.get("/payments/return?status=success&locale=de").status_code == 200
