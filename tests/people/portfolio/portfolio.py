"""Portfolio files for the import tests: each test names its own creditor, so tests sharing one
database never see each other's rows."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from people.debtors.models import Debt, Debtor

COLUMNS = [
    "creditor", "reference", "first_name", "last_name", "date_of_birth", "country", "region", "language", "timezone",
    "phone", "email", "principal", "fees", "interest", "currency", "due_date", "sms_consent", "whatsapp_opt_in",
]  # fmt: skip


def creditor() -> str:
    return f"Test Creditor {uuid.uuid4().hex[:10]}"


def row(creditor: str, reference: str, **changes: Any) -> dict[str, Any]:
    """A valid Swedish row; `changes` override columns (None drops one)."""
    base = {
        "creditor": creditor, "reference": reference, "first_name": "Eva", "last_name": "Berg",
        "date_of_birth": "1980-02-03", "country": "SE", "language": "sv", "timezone": "", "phone": "",
        "email": "eva.berg@example.se", "principal": "1000.00", "fees": "50.00", "interest": "",
        "currency": "SEK", "due_date": "2027-01-31", "sms_consent": "", "whatsapp_opt_in": "",
    }  # fmt: skip
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def as_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def as_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


async def debts_of(session: AsyncSession, creditor: str) -> dict[str, Debt]:
    found = await session.scalars(select(Debt).where(Debt.creditor == creditor))
    return {d.reference: d for d in found.all()}


async def debtor(session: AsyncSession, debtor_id: int) -> Debtor:
    found = await session.get(Debtor, debtor_id, populate_existing=True)
    assert found is not None
    return found
