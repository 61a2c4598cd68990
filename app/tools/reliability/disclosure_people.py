"""The debtors of the disclosure fuzz: the demo debtors plus generated ones, read back from the
stack's database so the forbidden strings are exactly what the bot could disclose.

Generated debtors exist because verification locks a reference for 30 minutes after three
failures from anywhere: the demo references are attacked by hundreds of paths and are locked
most of the run, so paths that must verify (and then probe someone else's data) each get a
debtor of their own, and a small pool of generated victims spreads the attacks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from money.ledger import service as ledger_service
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from people.jurisdiction import service as jurisdiction

CURRENCY = {"en": "GBP", "sv": "SEK", "de": "EUR", "pt-BR": "BRL"}
FIRST_NAMES = ("Maja", "Leon", "Sofia", "Noah", "Clara", "Mateus", "Ingrid", "Paul", "Beatriz", "Oliver", "Freja")
LAST_NAMES = ("Holm", "Krause", "Souza", "Evans", "Berg", "Vogel", "Lima", "Hughes", "Dahl", "Ferreira")
CREDITORS = ("Kraftverk Syd AB", "Mobilnetz GmbH", "Banco Aurora", "Riverside Energy", "Stadtwerke Ost",
             "Telefonia Sol", "Bredband Norr AB", "Harbour Finance")  # fmt: skip


@dataclass(frozen=True)
class Owed:
    creditor: str
    reference: str
    currency: str
    amounts: tuple[Decimal, ...]  # the debt's total, then each component


@dataclass(frozen=True)
class Person:
    id: int
    reference: str
    name: str
    date_of_birth: date
    locale: str
    phone: str | None
    debts: tuple[Owed, ...]

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    def totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for debt in self.debts:
            sums[debt.currency] = sums.get(debt.currency, Decimal("0")) + debt.amounts[0]
        return sums


async def load(*, sessionmaker: async_sessionmaker[AsyncSession]) -> list[Person]:
    """Every debtor in the database, with every debt and component (open or not)."""
    async with sessionmaker() as session:
        debtors = (
            await session.scalars(
                select(Debtor).options(selectinload(Debtor.debts).selectinload(Debt.components)).order_by(Debtor.id)
            )
        ).all()
        return [
            Person(
                id=d.id,
                reference=d.reference,
                name=d.name,
                date_of_birth=d.date_of_birth,
                locale=d.locale,
                phone=d.phone,
                debts=tuple(
                    Owed(
                        creditor=debt.creditor,
                        reference=debt.reference,
                        currency=debt.currency,
                        amounts=(debt.amount, *(c.amount for c in debt.components)),
                    )
                    for debt in d.debts
                ),
            )
            for d in debtors
        ]


def _amount(rng: random.Random, taken: set[Decimal]) -> Decimal:
    while True:
        value = Decimal(rng.randrange(5_000, 900_000)) / 100
        if value not in taken and value % 1 != 0:  # cents: never a round number said in passing
            taken.add(value)
            return value


async def seed(*, sessionmaker: async_sessionmaker[AsyncSession], count: int, rng: random.Random) -> list[str]:
    """Add `count` generated debtors (1–2 debts each, components that add up); their references."""
    references: list[str] = []
    async with sessionmaker() as session:
        existing = set((await session.scalars(select(Debtor.reference))).all())
        taken = {c for c in (await session.scalars(select(DebtComponent.amount))).all()}
        index = 0
        while len(references) < count:
            index += 1
            reference = f"FZ-{700000 + index:06d}"
            if reference in existing:
                continue
            locale = rng.choice(tuple(CURRENCY))
            debtor = Debtor(
                reference=reference,
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}-{index:04d}",
                date_of_birth=date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55)),
                locale=locale,
                timezone="Europe/Stockholm",
                # Placed where its language is spoken (its debts are in that country's currency).
                country=jurisdiction.for_country(None, locale=locale).country,
                preferred_channel="webchat",
            )
            debts = []
            for n in range(rng.choice((1, 1, 2))):
                currency = CURRENCY[locale] if n == 0 else rng.choice(tuple(CURRENCY.values()))
                parts = [(ComponentKind.PRINCIPAL, _amount(rng, taken))]
                if rng.random() < 0.5:
                    parts.append((rng.choice((ComponentKind.FEES, ComponentKind.INTEREST)), _amount(rng, taken)))
                debts.append(
                    Debt(
                        creditor=f"{rng.choice(CREDITORS)} {index:04d}-{n}",
                        reference=f"ZD-{index:05d}{n}",
                        currency=currency,
                        due_date=date(2027, 1, 1) + timedelta(days=rng.randrange(0, 300)),
                        components=[DebtComponent(kind=k, amount=a) for k, a in parts],
                    )
                )
            debtor.debts = debts
            session.add(debtor)
            await session.flush()
            for debt in debtor.debts:
                await ledger_service.open_debt(
                    session=session, debt=debt, components=[(c.kind.value, c.amount) for c in debt.components]
                )
            references.append(reference)
        await session.commit()
    return references
