"""A debtor placed by a portfolio import with the agency's own reference format (built through
the debtors service, as the import does), for verification tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from people.debtors import service as debtors_service


@dataclass(frozen=True)
class Imported:
    debtor_id: int
    reference: str  # as stored: "INV/2024/00123"-like, unique to the test
    born: date


async def imported(
    session: AsyncSession, *, born: date = date(1984, 3, 9), reference: str | None = None, creditor: str = ""
) -> Imported:
    reference = reference or f"INV/{secrets.randbelow(9000) + 1000}/{secrets.randbelow(10**5):05d}"
    [debtor_id] = await debtors_service.add_debtors(
        session=session,
        debtors=[debtors_service.NewDebtor("Mara Lind", born, "SE", "sv", "Europe/Stockholm", None, None)],
    )
    await debtors_service.add_debts(
        session=session,
        debts=[
            debtors_service.NewDebt(
                debtor_id, creditor or f"Agency {secrets.token_hex(4)}", reference, "SEK", date(2026, 1, 31),
                (("principal", Decimal("1200.00")),),
            )
        ],
    )  # fmt: skip
    await session.flush()
    return Imported(debtor_id, reference, born)
