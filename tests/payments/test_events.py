"""Provider events applied to the ledger: once per event, once per payment, in any order."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from money.ledger.models import LedgerTransaction, TransactionKind
from payments import service as payments_service
from payments.models import PaymentStatus
from payments.service import Outcome
from people.debtors import service as debtors_service
from tests.payments.conftest import completed, event, refunded, succeeded


async def totals(session: AsyncSession, reference: str) -> tuple[tuple[str, Decimal], ...]:
    debtor = await debtors_service.get_by_reference(session=session, reference=reference)
    assert debtor
    return (await debtors_service.open_balance(session=session, debtor_id=debtor.id)).totals


async def payment_transactions(session: AsyncSession, payment_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.payment_id == payment_id, LedgerTransaction.kind == TransactionKind.PAYMENT)
        )
        or 0
    )


@pytest.mark.parametrize(
    ("reference", "currency", "full_minor"),
    [
        ("SE-100234", "SEK", 425000),
        ("DE-200871", "EUR", 40840),
        ("UK-300552", "GBP", 61245),
        ("BR-400918", "BRL", 125000),
    ],
)
async def test_pay_everything_in_each_currency(
    session: AsyncSession, start_payment, reference: str, currency: str, full_minor: int
) -> None:  # type: ignore[no-untyped-def]
    payment = await start_payment(reference)
    assert (payment.currency, payment.amount_minor) == (currency, full_minor)
    result = await payments_service.handle_event(session=session, event=completed(payment, "pi_1"))
    assert result.outcome is Outcome.SUCCEEDED and payment.status is PaymentStatus.SUCCEEDED
    assert await totals(session, reference) == ()


async def test_replay_a_hundred_times_books_once(session: AsyncSession, start_payment) -> None:  # type: ignore[no-untyped-def]
    payment = await start_payment("UK-300552", amount_minor=10000)
    same = completed(payment, "pi_2")
    outcomes = [(await payments_service.handle_event(session=session, event=same)).outcome for _ in range(100)]
    assert outcomes[0] is Outcome.SUCCEEDED and set(outcomes[1:]) == {Outcome.DUPLICATE}
    assert await payment_transactions(session, payment.id) == 1
    assert await totals(session, "UK-300552") == (("GBP", Decimal("512.45")),)


async def test_intent_succeeded_before_session_completed(session: AsyncSession, start_payment) -> None:  # type: ignore[no-untyped-def]
    payment = await start_payment("DE-200871", amount_minor=5000)
    first = await payments_service.handle_event(session=session, event=succeeded(payment, "pi_3"))
    second = await payments_service.handle_event(session=session, event=completed(payment, "pi_3"))
    assert (first.outcome, second.outcome) == (Outcome.SUCCEEDED, Outcome.IGNORED)
    assert payment.payment_intent_id == "pi_3" and await payment_transactions(session, payment.id) == 1
    # 50,00 € go to the Inkassokosten (58,50) first.
    assert await totals(session, "DE-200871") == (("EUR", Decimal("358.40")),)


async def test_shuffled_duplicates_of_many_payments_are_exact(session: AsyncSession, start_payment) -> None:  # type: ignore[no-untyped-def]
    payments = [await start_payment("SE-100234", amount_minor=1000) for _ in range(10)]
    events = [e for p in payments for e in (completed(p, f"pi_s{p.id}"), succeeded(p, f"pi_s{p.id}"))]
    deliveries = events * 5
    random.Random(7).shuffle(deliveries)
    for delivery in deliveries:
        await payments_service.handle_event(session=session, event=delivery)
    assert await totals(session, "SE-100234") == (("SEK", Decimal("4150.00")),)


async def test_partial_then_full_refund(session: AsyncSession, start_payment) -> None:  # type: ignore[no-untyped-def]
    payment = await start_payment("BR-400918", amount_minor=20000)
    await payments_service.handle_event(session=session, event=completed(payment, "pi_r"))
    assert await totals(session, "BR-400918") == (("BRL", Decimal("1050.00")),)
    partial = await payments_service.handle_event(session=session, event=refunded(payment, "pi_r", 5000))
    assert partial.outcome is Outcome.REFUNDED and partial.amount_minor == 5000
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert await totals(session, "BR-400918") == (("BRL", Decimal("1100.00")),)
    # The same cumulative amount again (a replayed or re-sent refund event) changes nothing.
    again = await payments_service.handle_event(session=session, event=refunded(payment, "pi_r", 5000))
    assert again.outcome is Outcome.IGNORED
    await payments_service.handle_event(session=session, event=refunded(payment, "pi_r", 20000))
    assert payment.status is PaymentStatus.REFUNDED
    assert await totals(session, "BR-400918") == (("BRL", Decimal("1250.00")),)


async def test_failed_payment_changes_no_balance(session: AsyncSession, start_payment) -> None:  # type: ignore[no-untyped-def]
    payment = await start_payment("UK-300552")
    failed = event(
        "payment_intent.payment_failed",
        {
            "id": "pi_f",
            "metadata": {"payment_id": str(payment.id)},
            "last_payment_error": {"message": "Your card was declined."},
        },
    )
    result = await payments_service.handle_event(session=session, event=failed)
    assert result.outcome is Outcome.FAILED and payment.failure_reason == "Your card was declined."
    assert await totals(session, "UK-300552") == (("GBP", Decimal("612.45")),)


async def test_unknown_payment_and_unknown_type_are_ignored(session: AsyncSession) -> None:
    assert (
        await payments_service.handle_event(session=session, event=event("payment_intent.succeeded", {"id": "pi_x"}))
    ).outcome is Outcome.IGNORED
    assert (
        await payments_service.handle_event(session=session, event=event("customer.created", {}))
    ).outcome is Outcome.IGNORED
    assert (await payments_service.handle_event(session=session, event={"type": "x"})).outcome is Outcome.IGNORED


async def test_one_debt_only(session: AsyncSession, start_payment) -> None:  # type: ignore[no-untyped-def]
    payment = await start_payment("SE-100234", debt_index=1)  # ElKraft AB
    assert payment.amount_minor == 218000
    await payments_service.handle_event(session=session, event=completed(payment, "pi_one"))
    assert await totals(session, "SE-100234") == (("SEK", Decimal("2070.00")),)
