"""Queries over debtors and debts. Keyword-only functions taking an AsyncSession."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from money.ledger import service as ledger_service
from money.ledger.money import from_minor
from people.debtors.models import Debt, Debtor, DebtStatus


@dataclass(frozen=True)
class ComponentLine:
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class DebtLine:
    id: int
    creditor: str
    reference: str
    currency: str
    due_date: date
    amount: Decimal
    components: tuple[ComponentLine, ...]


@dataclass(frozen=True)
class Balance:
    debts: tuple[DebtLine, ...]
    totals: tuple[tuple[str, Decimal], ...]  # (currency, amount), sorted by currency


async def get_by_reference(*, session: AsyncSession, reference: str) -> Debtor | None:
    return await session.scalar(select(Debtor).where(Debtor.reference == reference))


async def get(*, session: AsyncSession, debtor_id: int) -> Debtor | None:
    return await session.get(Debtor, debtor_id)


async def open_debts(*, session: AsyncSession, debtor_id: int, debt_ids: list[int] | None = None) -> list[Debt]:
    """Open debts, oldest due first (the order payments are allocated in)."""
    query = select(Debt).where(Debt.debtor_id == debtor_id, Debt.status == DebtStatus.OPEN)
    if debt_ids is not None:
        query = query.where(Debt.id.in_(debt_ids))
    return list(
        (await session.scalars(query.options(selectinload(Debt.components)).order_by(Debt.due_date, Debt.id))).all()
    )


async def open_balance(*, session: AsyncSession, debtor_id: int) -> Balance:
    """Every open debt of the debtor, itemised, and the total per currency — derived from the
    ledger, so payments and refunds show up without anything being overwritten."""
    debts = await open_debts(session=session, debtor_id=debtor_id)
    owed = await ledger_service.receivables(session=session, debt_ids=[d.id for d in debts])
    totals: dict[str, Decimal] = defaultdict(Decimal)
    lines = []
    for debt in debts:
        components = tuple(
            ComponentLine(kind=c.kind.value, amount=from_minor(owed.get((debt.id, c.kind.value), 0), debt.currency))
            for c in debt.components
        )
        components = tuple(c for c in components if c.amount > 0)
        amount = sum((c.amount for c in components), Decimal("0"))
        if amount <= 0:
            continue
        totals[debt.currency] += amount
        lines.append(
            DebtLine(
                id=debt.id,
                creditor=debt.creditor,
                reference=debt.reference,
                currency=debt.currency,
                due_date=debt.due_date,
                amount=amount,
                components=components,
            )
        )
    return Balance(debts=tuple(lines), totals=tuple(sorted(totals.items())))
