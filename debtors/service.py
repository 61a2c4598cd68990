"""Queries over debtors and debts. Keyword-only functions taking an AsyncSession."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from debtors.models import Debt, Debtor, DebtStatus


@dataclass(frozen=True)
class ComponentLine:
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class DebtLine:
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


async def open_balance(*, session: AsyncSession, debtor_id: int) -> Balance:
    """Every open debt of the debtor, itemised, and the total per currency."""
    debts = (
        await session.scalars(
            select(Debt)
            .where(Debt.debtor_id == debtor_id, Debt.status == DebtStatus.OPEN)
            .options(selectinload(Debt.components))
            .order_by(Debt.due_date, Debt.id)
        )
    ).all()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    lines = []
    for debt in debts:
        totals[debt.currency] += debt.amount
        lines.append(
            DebtLine(
                creditor=debt.creditor,
                reference=debt.reference,
                currency=debt.currency,
                due_date=debt.due_date,
                amount=debt.amount,
                components=tuple(ComponentLine(kind=c.kind.value, amount=c.amount) for c in debt.components),
            )
        )
    return Balance(debts=tuple(lines), totals=tuple(sorted(totals.items())))
