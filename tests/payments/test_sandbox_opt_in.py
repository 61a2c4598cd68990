"""The payments sandbox is opt-in: which provider each configuration gets, and the sandbox routes
(and the webhook) of a gateway without Stripe keys, with and without PAYMENTS_SANDBOX."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from bot.actions.settings import ActionSettings
from core.database import make_engine
from money.ledger.models import LedgerTransaction
from payments.config import PaymentSettings
from payments.models import Payment, PaymentStatus
from payments.providers import SandboxProvider, StripeProvider, provider_for
from tests.fakes.stripe_server import FakeStripe
from tests.payments.test_webhook_http import _prepare
from tests.stack import free_port


def test_no_keys_and_no_flag_means_no_card_payment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PAYMENTS_SANDBOX", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    for settings in (
        PaymentSettings(sandbox_secret_file=tmp_path / "secret"),
        GatewaySettings(_env_file=None, sandbox_secret_file=tmp_path / "secret"),  # type: ignore[call-arg]
        ActionSettings(_env_file=None, sandbox_secret_file=tmp_path / "secret"),  # type: ignore[call-arg]
    ):
        assert settings.provider_name is None
        assert provider_for(settings) is None
        assert settings.webhook_secret() is None  # no webhook can be genuine
    assert not (tmp_path / "secret").exists()  # not even the sandbox's signing secret is made


def test_the_flag_turns_the_sandbox_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAYMENTS_SANDBOX", "true")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    settings = GatewaySettings(_env_file=None, sandbox_secret_file=tmp_path / "secret")  # type: ignore[call-arg]
    assert settings.payments_sandbox and settings.provider_name == "sandbox"
    assert isinstance(provider_for(settings), SandboxProvider)
    assert str(settings.webhook_secret()).startswith("whsec_sandbox_")


async def test_keys_mean_stripe_even_with_the_flag() -> None:
    with FakeStripe() as fake, fake.installed():
        for flag in (False, True):
            settings = PaymentSettings(
                stripe_secret_key=SecretStr("sk_test_123"),
                stripe_webhook_secret=SecretStr("whsec_test"),
                stripe_api_base=fake.url,
                payments_sandbox=flag,
            )
            provider = provider_for(settings)
            assert settings.provider_name == "stripe" and isinstance(provider, StripeProvider)
            assert settings.webhook_secret() == "whsec_test"


# -- the routes ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A migrated, seeded database holding a pending sandbox payment (as if made while it was on)."""
    folder: Path = tmp_path_factory.mktemp("sandbox-opt-in")
    url = f"sqlite+aiosqlite:///{folder / 'db.sqlite'}"
    migrate(url)
    settings = GatewaySettings(database_url=url, sandbox_secret_file=folder / "secret", payments_sandbox=True)
    data = asyncio.run(_prepare(url, settings))
    settings.webhook_secret()  # the sandbox's signing secret, as a run with the flag leaves it
    return {**data, "url": url, "folder": folder}


@pytest.fixture
def off(world: dict[str, Any]) -> Iterator[TestClient]:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=world["url"], rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5,
        sandbox_secret_file=world["folder"] / "secret", payments_sandbox=False, stripe_secret_key=None,
        stripe_webhook_secret=None,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client


def _state(url: str, payment_id: int) -> tuple[PaymentStatus, int]:
    async def read() -> tuple[PaymentStatus, int]:
        engine = make_engine(url)
        async with AsyncSession(engine) as session:
            payment = await session.get(Payment, payment_id)
            assert payment is not None
            booked = await session.scalar(select(func.count()).select_from(LedgerTransaction))
        await engine.dispose()
        return payment.status, int(booked or 0)

    return asyncio.run(read())


def test_without_the_flag_every_sandbox_route_is_a_404(off: TestClient, world: dict[str, Any]) -> None:
    payment: Payment = world["payment"]
    before = _state(world["url"], payment.id)
    page = f"/payments/sandbox/checkout/{payment.checkout_session_id}"
    assert off.get(page).status_code == 404
    for choice in ("pay", "decline", "other"):
        assert off.post(f"{page}/{choice}", follow_redirects=False).status_code == 404
    assert off.get("/payments/sandbox/checkout/cs_sandbox_unknown").status_code == 404
    assert _state(world["url"], payment.id) == before == (PaymentStatus.PENDING, before[1])


def test_without_a_provider_no_webhook_is_accepted(off: TestClient, world: dict[str, Any]) -> None:
    """Not even one signed with the sandbox's old secret: nothing can be booked."""
    payment: Payment = world["payment"]
    before = _state(world["url"], payment.id)
    secret = (world["folder"] / "secret").read_text().strip()
    event = {
        "id": "evt_sandbox_forged",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": payment.checkout_session_id, "object": "checkout.session", "payment_status": "paid",
                "amount_total": payment.amount_minor, "currency": "gbp", "metadata": {"payment_id": str(payment.id)},
            }
        },
    }  # fmt: skip
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret)  # type: ignore[attr-defined]
    response = off.post(
        "/payments/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert _state(world["url"], payment.id) == before


def test_with_the_flag_the_sandbox_page_is_clearly_a_test(world: dict[str, Any]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=world["url"], rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5,
        sandbox_secret_file=world["folder"] / "secret", payments_sandbox=True, stripe_secret_key=None,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        page = client.get(f"/payments/sandbox/checkout/{world['payment'].checkout_session_id}")
    assert page.status_code == 200
    assert "TEST MODE" in page.text and "No real money moves" in page.text and "Pay (test)" in page.text
