"""The ledger: balanced, idempotent, balances derived; minor units per currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from money.ledger import service as ledger_service
from money.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from money.ledger.money import from_minor, to_minor
from money.ledger.service import Posting, UnbalancedTransaction
from people.debtors import service as debtors_service


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("4250.00", "SEK", 425000), ("408.40", "EUR", 40840), ("612.45", "GBP", 61245), ("1250.00", "BRL", 125000),
     ("1500", "JPY", 1500), ("1.234", "KWD", 1234)],
)  # fmt: skip
def test_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


def test_half_a_cent_rounds_half_up() -> None:
    assert to_minor("0.005", "EUR") == 1 and to_minor("0.004", "EUR") == 0


def test_allocation_fills_in_order_and_returns_leftover() -> None:
    takes, left = ledger_service.allocate(250, [(1, "fees", 100), (1, "interest", 0), (1, "principal", 100)])
    assert takes == [(1, "fees", 100), (1, "principal", 100)] and left == 50


async def test_unbalanced_transactions_are_refused(session: AsyncSession) -> None:
    with pytest.raises(UnbalancedTransaction):
        await ledger_service.post(
            session=session, kind=TransactionKind.PAYMENT, key="x", currency="EUR", postings=[Posting("cash:test", 10)]
        )


async def test_every_transaction_balances_and_balance_is_derived(session: AsyncSession) -> None:
    anna = await debtors_service.get_by_reference(session=session, reference="SE-100234")
    assert anna
    debts = await debtors_service.open_debts(session=session, debtor_id=anna.id)
    # 500,00 kr: fees first (180,00), then principal of the oldest debt.
    await ledger_service.record_payment(
        session=session, key="payment:t1", payment_id=None, debtor_id=anna.id, provider="test",  # type: ignore[arg-type]
        currency="SEK", amount_minor=50000, debts=debts,
    )  # fmt: skip
    owed = await ledger_service.receivables(session=session, debt_ids=[d.id for d in debts])
    telecom, power = debts
    assert owed[(telecom.id, "fees")] == 0
    assert owed[(telecom.id, "principal")] == 189000 - 32000
    assert owed[(power.id, "principal")] == 218000
    sums = (
        await session.execute(
            select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount_minor)).group_by(LedgerEntry.transaction_id)
        )
    ).all()
    assert sums and all(total == 0 for _, total in sums)
    balance = await debtors_service.open_balance(session=session, debtor_id=anna.id)
    assert balance.totals == (("SEK", Decimal("3750.00")),)


async def test_same_key_posts_once(session: AsyncSession) -> None:
    emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
    assert emily
    debts = await debtors_service.open_debts(session=session, debtor_id=emily.id)
    for _ in range(3):
        await ledger_service.record_payment(
            session=session, key="payment:same", payment_id=None, debtor_id=emily.id, provider="test",  # type: ignore[arg-type]
            currency="GBP", amount_minor=1000, debts=debts,
        )  # fmt: skip
    count = await session.scalar(
        select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.idempotency_key == "payment:same")
    )
    assert count == 1


async def test_paying_everything_marks_the_debt_paid_and_overpayment_is_credit(session: AsyncSession) -> None:
    emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
    assert emily
    debts = await debtors_service.open_debts(session=session, debtor_id=emily.id)
    await ledger_service.record_payment(
        session=session, key="payment:all", payment_id=None, debtor_id=emily.id, provider="test",  # type: ignore[arg-type]
        currency="GBP", amount_minor=61245 + 500, debts=debts,
    )  # fmt: skip
    assert (await debtors_service.open_balance(session=session, debtor_id=emily.id)).debts == ()
    credit = await session.scalar(
        select(func.sum(LedgerEntry.amount_minor)).where(
            LedgerEntry.account == ledger_service.DEBTOR_CREDIT, LedgerEntry.debtor_id == emily.id
        )
    )
    assert credit == -500
