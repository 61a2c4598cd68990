"""Two deliveries at the same time, in separate transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from money.ledger.models import LedgerTransaction, TransactionKind
from payments import service as payments_service
from payments.config import PaymentSettings
from payments.models import Payment
from payments.providers import SandboxProvider
from payments.service import Outcome
from people.debtors import service as debtors_service
from tests.payments.conftest import completed, succeeded


async def _payment(maker: async_sessionmaker[AsyncSession]) -> Payment:
    async with maker() as session:
        emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
        assert emily
        [payment] = await payments_service.start_checkouts(
            session=session, provider=SandboxProvider(PaymentSettings()), debtor=emily, debt_ids=None, conversation_id=None,
            locale="en", descriptions={}, success_url="http://x", cancel_url="http://x", amount_minor=2500,
        )  # fmt: skip
        await session.commit()
        return payment


async def _deliver(maker: async_sessionmaker[AsyncSession], event: dict) -> Outcome:  # type: ignore[type-arg]
    async with maker() as session:
        result = await payments_service.handle_event(session=session, event=event)
        await session.commit()
        return result.outcome


async def _bookings(maker: async_sessionmaker[AsyncSession], payment_id: int) -> int:
    async with maker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(LedgerTransaction.payment_id == payment_id, LedgerTransaction.kind == TransactionKind.PAYMENT)
            )
            or 0
        )


async def test_same_event_twice_at_once(committed: async_sessionmaker[AsyncSession]) -> None:
    payment = await _payment(committed)
    event = completed(payment, "pi_c1")
    outcomes = await asyncio.gather(_deliver(committed, event), _deliver(committed, event))
    assert sorted(o.value for o in outcomes) == ["duplicate", "succeeded"]
    assert await _bookings(committed, payment.id) == 1


async def test_two_events_for_the_same_money_at_once(committed: async_sessionmaker[AsyncSession]) -> None:
    payment = await _payment(committed)
    outcomes = await asyncio.gather(
        *[_deliver(committed, e) for e in (completed(payment, "pi_c2"), succeeded(payment, "pi_c2")) for _ in range(3)]
    )
    assert [o.value for o in outcomes].count("succeeded") == 1
    assert await _bookings(committed, payment.id) == 1
