"""Concurrent payments on the same debt (found by the replay storm, tools/reliability/replay.py):
each must allocate against what the others left, never take the same fees twice."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from money.ledger.models import LedgerEntry
from money.ledger.service import RECEIVABLE
from payments import service as payments_service
from payments.config import PaymentSettings
from payments.models import Payment
from payments.providers import SandboxProvider
from people.debtors import service as debtors_service
from tests.payments.conftest import completed

AMOUNTS = [1500, 1700, 1900, 2100, 2300, 2500]  # 120.00 EUR over Jonas's 58.50 EUR of fees


async def _payments(maker: async_sessionmaker[AsyncSession]) -> list[Payment]:
    async with maker() as session:
        jonas = await debtors_service.get_by_reference(session=session, reference="DE-200871")
        assert jonas
        made = []
        for amount in AMOUNTS:
            [payment] = await payments_service.start_checkouts(
                session=session, provider=SandboxProvider(PaymentSettings()), debtor=jonas, debt_ids=None,
                conversation_id=None, locale="de", descriptions={}, success_url="http://x", cancel_url="http://x",
                amount_minor=amount,
            )  # fmt: skip
            made.append(payment)
        await session.commit()
        return made


async def _deliver(maker: async_sessionmaker[AsyncSession], event: dict) -> None:  # type: ignore[type-arg]
    async with maker() as session:
        await payments_service.handle_event(session=session, event=event)
        await session.commit()


async def _receivable(maker: async_sessionmaker[AsyncSession], debt_ids: list[int]) -> dict[str, int]:
    """What is still owed on these debts, per component (principal, fees, ...)."""
    async with maker() as session:
        rows = await session.execute(
            select(LedgerEntry.component, func.sum(LedgerEntry.amount_minor))
            .where(LedgerEntry.account == RECEIVABLE, LedgerEntry.debt_id.in_(debt_ids))
            .group_by(LedgerEntry.component)
        )
        return {str(component): int(total) for component, total in rows.all()}


async def test_concurrent_payments_never_take_the_same_fees_twice(committed: async_sessionmaker[AsyncSession]) -> None:
    payments = await _payments(committed)
    debt_ids = payments[0].debt_ids
    before = await _receivable(committed, debt_ids)
    await asyncio.gather(*(_deliver(committed, completed(p, f"pi_race_{p.id}")) for p in payments))
    after = await _receivable(committed, debt_ids)
    paid = sum(AMOUNTS)
    assert before["fees"] < paid < before["fees"] + before["principal"]
    assert after["fees"] == 0, after  # fees first, exactly once
    assert after["principal"] == before["principal"] - (paid - before["fees"]), after
