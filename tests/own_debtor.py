"""A debtor of a test's own on a running stack's database: a twin of one demo debtor (same birth
date, debts and amounts, so the test's expected texts stay the same) under a fresh reference and
surname, so that no test sees what another test did to a shared demo debtor (a "welcome back",
a lockout, a dispute hold, a payment)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from core.database import make_engine
from money.ledger import service as ledger_service
from people.debtors.models import Debt, DebtComponent, Debtor
from people.debtors.seed import DEMO


@dataclass(frozen=True)
class OwnDebtor:
    id: int
    reference: str
    name: str
    date_of_birth: date
    debt_references: tuple[str, ...]

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


def _letters(number: int, length: int) -> str:
    """A surname suffix without digits (the assistant says the name back)."""
    return "".join("abcdefghijklmnopqrstuvwxyz"[(number >> (5 * i)) % 26] for i in range(length))


async def add_own_debtor(*, session: AsyncSession, like: str = "UK-300552", phone: str | None = None) -> OwnDebtor:
    """A new debtor shaped like the demo debtor `like`, flushed in `session` (the caller commits)."""
    [row] = [r for r in DEMO if r["reference"] == like]
    tag = uuid.uuid4().int
    reference = f"{like[:2]}-{tag % 10**6:06d}"  # the shape the NLU's reference regex reads
    first, last = row["name"].split(" ", 1)
    name = f"{first} {last}{_letters(tag >> 20, 5)}"
    debts = [
        Debt(creditor=creditor, reference=f"{ref}-{tag % 10**6:06d}", currency=currency, due_date=due,
             components=[DebtComponent(kind=k, amount=Decimal(a), description=d) for k, a, d in parts])
        for creditor, ref, currency, due, parts in row["debts"]
    ]  # fmt: skip
    debtor = Debtor(
        reference=reference, name=name, date_of_birth=row["date_of_birth"], locale=row["locale"],
        timezone=row["timezone"], phone=phone, email=f"{reference.lower()}@example.org",
        preferred_channel="webchat", debts=debts,
    )  # fmt: skip
    session.add(debtor)
    await session.flush()
    for debt in debts:
        await ledger_service.open_debt(
            session=session, debt=debt, components=[(c.kind.value, c.amount) for c in debt.components]
        )
    return OwnDebtor(
        id=debtor.id, reference=reference, name=name, date_of_birth=row["date_of_birth"],
        debt_references=tuple(d.reference for d in debts),
    )  # fmt: skip


async def _create(database_url: str, like: str, phone: str | None) -> OwnDebtor:
    engine = make_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            own = await add_own_debtor(session=session, like=like, phone=phone)
            await session.commit()
            return own
    finally:
        await engine.dispose()


def own_debtor(database_url: str, *, like: str = "UK-300552", phone: str | None = None) -> OwnDebtor:
    """A new debtor shaped like the demo debtor `like`, in the stack's database (SQLite or PostgreSQL)."""
    return asyncio.run(_create(database_url, like, phone))
