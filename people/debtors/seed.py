"""Demo debtors used by `make run` (`manage seed --demo`) and by the tests. Idempotent: existing
references are kept. Their phone numbers lie in ranges reserved for fiction (people/debtors/fiction.py),
so no real person is ever texted; Brazil has no such range, so Lucas has no phone number."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from money.ledger import service as ledger_service
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor

PRINCIPAL, INTEREST, FEES = ComponentKind.PRINCIPAL, ComponentKind.INTEREST, ComponentKind.FEES

DEMO: list[dict] = [
    {
        "reference": "SE-100234",
        "name": "Anna Lindqvist",
        "date_of_birth": date(1985, 4, 12),
        "locale": "sv",
        "timezone": "Europe/Stockholm",
        "country": "SE",
        "phone": "+46701740642",  # PTS fiction range
        "email": "anna.lindqvist@example.se",
        "debts": [
            (
                "Nordic Telecom AB",
                "NT-7781203",
                "SEK",
                date(2026, 10, 31),
                [(PRINCIPAL, "1890.00", None), (FEES, "180.00", "Påminnelse- och inkassoavgift")],
            ),
            ("ElKraft AB", "EK-552310", "SEK", date(2026, 11, 15), [(PRINCIPAL, "2180.00", None)]),
        ],
    },
    {
        "reference": "DE-200871",
        "name": "Jonas Becker",
        "date_of_birth": date(1979, 11, 3),
        "locale": "de",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "phone": "+4915228817386",  # Bundesnetzagentur drama number
        "email": "jonas.becker@example.de",
        "debts": [
            (
                "Versandhaus Nord GmbH",
                "VN-2026-11873",
                "EUR",
                date(2026, 10, 20),
                [(PRINCIPAL, "349.90", None), (FEES, "58.50", "Inkassokosten")],
            ),
        ],
    },
    {
        "reference": "UK-300552",
        "name": "Emily Carter",
        "date_of_birth": date(1992, 7, 21),
        "locale": "en",
        "timezone": "Europe/London",
        "country": "GB",
        "phone": "+447700900123",  # Ofcom drama range
        "email": "emily.carter@example.co.uk",
        "debts": [
            ("Northern Water", "NW-88214", "GBP", date(2026, 11, 1), [(PRINCIPAL, "612.45", None)]),
        ],
    },
    {
        "reference": "BR-400918",
        "name": "Lucas Almeida",
        "date_of_birth": date(1990, 2, 14),
        "locale": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "country": "BR",
        "phone": None,  # Anatel reserves no numbers for fiction
        "email": "lucas.almeida@example.com.br",
        "debts": [
            (
                "Loja Central",
                "LC-30512",
                "BRL",
                date(2026, 10, 10),
                [(PRINCIPAL, "1100.00", None), (INTEREST, "150.00", "juros")],
            ),
        ],
    },
]


async def seed_demo(*, session: AsyncSession) -> int:
    """Insert the demo debtors that are missing; returns how many were added."""
    existing = set((await session.scalars(select(Debtor.reference))).all())
    added = 0
    for row in DEMO:
        if row["reference"] in existing:
            continue
        fields = {k: v for k, v in row.items() if k != "debts"}
        debtor = Debtor(**fields, preferred_channel="webchat")
        debtor.debts = [
            Debt(
                creditor=creditor,
                reference=ref,
                currency=currency,
                due_date=due,
                components=[DebtComponent(kind=k, amount=Decimal(a), description=d) for k, a, d in parts],
            )
            for creditor, ref, currency, due, parts in row["debts"]
        ]
        session.add(debtor)
        await session.flush()
        for debt in debtor.debts:
            await ledger_service.open_debt(
                session=session, debt=debt, components=[(c.kind.value, c.amount) for c in debt.components]
            )
        added += 1
    await session.flush()
    return added
