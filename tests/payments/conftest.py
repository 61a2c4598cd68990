"""Stripe-shaped events for payments created through the real service (sandbox provider)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from payments import service as payments_service
from payments.config import PaymentSettings
from payments.models import Payment
from payments.providers import SandboxProvider
from people.debtors import service as debtors_service


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"id": event_id or f"evt_{secrets.token_hex(8)}", "object": "event", "type": kind, "data": {"object": obj}}


def completed(payment: Payment, intent: str, amount: int | None = None) -> dict[str, Any]:
    return event(
        "checkout.session.completed",
        {"id": payment.checkout_session_id, "object": "checkout.session", "payment_status": "paid",
         "payment_intent": intent, "amount_total": amount or payment.amount_minor, "metadata": {"payment_id": str(payment.id)}},
    )  # fmt: skip


def succeeded(payment: Payment, intent: str, amount: int | None = None) -> dict[str, Any]:
    return event(
        "payment_intent.succeeded",
        {"id": intent, "object": "payment_intent", "amount_received": amount or payment.amount_minor,
         "metadata": {"payment_id": str(payment.id)}},
    )  # fmt: skip


def refunded(payment: Payment, intent: str, cumulative: int) -> dict[str, Any]:
    return event(
        "charge.refunded",
        {"id": "ch_1", "object": "charge", "payment_intent": intent, "amount": payment.amount_minor,
         "amount_refunded": cumulative, "metadata": {"payment_id": str(payment.id)}},
    )  # fmt: skip


@pytest.fixture
def start_payment(session: AsyncSession):  # type: ignore[no-untyped-def]
    async def start(reference: str, amount_minor: int | None = None, debt_index: int | None = None) -> Payment:
        debtor = await debtors_service.get_by_reference(session=session, reference=reference)
        assert debtor
        debts = await debtors_service.open_debts(session=session, debtor_id=debtor.id)
        ids = None if debt_index is None else [debts[debt_index].id]
        [payment] = await payments_service.start_checkouts(
            session=session, provider=SandboxProvider(PaymentSettings()), debtor=debtor, debt_ids=ids,
            conversation_id=None, locale=debtor.locale, descriptions={}, success_url="http://x/ok",
            cancel_url="http://x/no", amount_minor=amount_minor,
        )  # fmt: skip
        return payment

    return start
