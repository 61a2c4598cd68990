"""insert_many writes what an INSERT would (COPY on PostgreSQL, executemany elsewhere): Python-side
defaults, context-sensitive ones included, and values through their column types."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.bulk import insert_many
from core.database import table_of
from people.debtors.models import Debt, Debtor, DebtStatus


async def test_rows_get_the_defaults_and_types_an_insert_gives(session: AsyncSession) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    people = [
        {"reference": f"BK-{tag}-{i}", "name": f"Bulk {i}", "date_of_birth": date(1980, 1, 1 + i), "locale": "en",
         "timezone": "Europe/London", "country": "GB", "phone": None, "email": None}
        for i in range(3)
    ]  # fmt: skip
    await insert_many(session, table_of(Debtor), people)
    found = (
        await session.scalars(select(Debtor).where(Debtor.reference.like(f"BK-{tag}-%")).order_by(Debtor.id))
    ).all()
    assert [d.name for d in found] == ["Bulk 0", "Bulk 1", "Bulk 2"]
    assert {d.preferred_channel for d in found} == {"webchat"}  # a scalar default
    assert all(d.created_at.tzinfo is not None for d in found)  # a callable default, a UTC type
    assert [d.reference_key for d in found] == [f"BK{tag}{i}" for i in range(3)]  # from the row itself
    debt = {"debtor_id": found[0].id, "creditor": f"Bulk {tag}", "reference": "X/1", "currency": "GBP",
            "due_date": date(2027, 1, 1), "status": DebtStatus.PAID}  # fmt: skip
    await insert_many(session, table_of(Debt), [debt])
    stored = await session.scalar(select(Debt).where(Debt.creditor == f"Bulk {tag}"))
    assert stored is not None and stored.status is DebtStatus.PAID and stored.reference_key == "X1"


async def test_nothing_to_insert_is_no_statement(session: AsyncSession) -> None:
    await insert_many(session, table_of(Debtor), [])
