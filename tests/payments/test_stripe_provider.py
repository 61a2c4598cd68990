"""The Stripe provider against a fake Stripe API on loopback (stripe.api_base), then its events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from money.ledger import service as ledger_service
from payments import service as payments_service
from payments.config import PaymentSettings
from payments.providers import StripeProvider
from payments.service import Outcome
from people.debtors import service as debtors_service
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from tests.fakes.stripe_server import FakeStripe


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server, server.installed():
        yield server


def provider(fake: FakeStripe) -> StripeProvider:
    return StripeProvider(PaymentSettings(stripe_secret_key=SecretStr("sk_test_123"), stripe_api_base=fake.url))


async def test_checkout_session_in_minor_units_with_metadata(session: AsyncSession, fake: FakeStripe) -> None:
    jonas = await debtors_service.get_by_reference(session=session, reference="DE-200871")
    assert jonas
    [payment] = await payments_service.start_checkouts(
        session=session, provider=provider(fake), debtor=jonas, debt_ids=None, conversation_id=None, locale="de",
        descriptions={"EUR": "Versandhaus Nord GmbH – Az. VN-2026-11873"}, success_url="http://x/ok", cancel_url="http://x/no",
    )  # fmt: skip
    method, path, body, headers = fake.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    item = body["line_items"][0]
    assert item["price_data"] == {
        "currency": "eur", "unit_amount": "40840", "product_data": {"name": "Versandhaus Nord GmbH – Az. VN-2026-11873"}
    }  # fmt: skip
    assert body["metadata"] == {"payment_id": str(payment.id)} == body["payment_intent_data"]["metadata"]
    assert body["locale"] == "de" and body["customer_email"] == "jonas.becker@example.de"
    assert headers["idempotency-key"] == f"checkout-{payment.id}"
    assert payment.checkout_url == fake.sessions[payment.checkout_session_id]["url"]

    # Stripe's own events for that session, intent first: booked once, balance derived.
    for built in (
        fake.payment_intent_succeeded(payment.checkout_session_id),
        fake.complete_session(payment.checkout_session_id),
    ):
        await payments_service.handle_event(session=session, event=built)
    assert (await debtors_service.open_balance(session=session, debtor_id=jonas.id)).debts == ()


async def test_zero_decimal_currency(session: AsyncSession, fake: FakeStripe) -> None:
    debtor = Debtor(
        reference="JP-000001", name="Test Yamada", date_of_birth=date(1980, 1, 1), locale="en", timezone="Asia/Tokyo"
    )
    debt = Debt(creditor="Tokyo Gas", reference="TG-1", currency="JPY", due_date=date(2026, 12, 1),
                components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal("15000"))])  # fmt: skip
    debtor.debts = [debt]
    session.add(debtor)
    await session.flush()
    await ledger_service.open_debt(session=session, debt=debt, components=[("principal", Decimal("15000"))])
    [payment] = await payments_service.start_checkouts(
        session=session, provider=provider(fake), debtor=debtor, debt_ids=None, conversation_id=None, locale="en",
        descriptions={}, success_url="http://x/ok", cancel_url="http://x/no",
    )  # fmt: skip
    assert payment.amount_minor == 15000
    assert fake.requests[-1].body["line_items"][0]["price_data"]["unit_amount"] == "15000"
    result = await payments_service.handle_event(
        session=session, event=fake.complete_session(payment.checkout_session_id)
    )
    assert result.outcome is Outcome.SUCCEEDED


async def test_failed_card_from_stripe(session: AsyncSession, fake: FakeStripe) -> None:
    emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
    assert emily
    [payment] = await payments_service.start_checkouts(
        session=session, provider=provider(fake), debtor=emily, debt_ids=None, conversation_id=None, locale="en",
        descriptions={}, success_url="http://x/ok", cancel_url="http://x/no",
    )  # fmt: skip
    result = await payments_service.handle_event(
        session=session, event=fake.payment_intent_failed(payment.checkout_session_id)
    )
    assert result.outcome is Outcome.FAILED and payment.failure_reason == "Your card was declined."
