"""Debtors with overdue debts made for first-contact tests, a cadence written for the tests, and
contact hours open around the clock (and no cap) unless a test is about them. The provider
channels are the reminders' (the real Twilio adapters talking to the loopback fake)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from money.ledger import service as ledger_service
from money.outreach import planner
from money.outreach.config import OutreachConfig, parse
from money.outreach.models import OutreachCase
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from tests.money.reminders.conftest import catalog, new_phone, open_config, outputs  # noqa: F401 - fixtures

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00 in London
OVERDUE = NOW.date() - timedelta(days=20)
BASE_URL = "https://assist.example.org"


def cadence(**countries: Any) -> OutreachConfig:
    """GB as shipped (SMS, WhatsApp on day 3, SMS on day 7, a call on day 10) unless given."""
    gb = {"sms": "allowed", "steps": [
        {"day": 0, "channel": "sms"}, {"day": 3, "channel": "whatsapp"}, {"day": 7, "channel": "sms"},
        {"day": 10, "channel": "call_list"},
    ]}  # fmt: skip
    return parse({"token_valid_hours": 72, "countries": {"GB": gb, **countries}})


async def make_debtor(
    session: AsyncSession,
    *,
    due: date = OVERDUE,
    country: str | None = "GB",
    locale: str = "en",
    timezone: str = "Europe/London",
    phone: str | None = "new",
    amount: str = "120.00",
    debts: int = 1,
) -> tuple[Debtor, list[Debt]]:
    """A debtor with open overdue debts (booked in the ledger, so something is owed)."""
    debtor = Debtor(
        reference=f"OR-{uuid.uuid4().hex[:10].upper()}", name="Olive Outreach", date_of_birth=date(1988, 3, 4),
        locale=locale, timezone=timezone, country=country, phone=new_phone() if phone == "new" else phone,
        preferred_channel="sms",
    )  # fmt: skip
    debtor.debts = [
        Debt(creditor="Hidden Creditor Ltd", reference=f"HC-{uuid.uuid4().hex[:8]}", currency="GBP", due_date=due,
             components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal(amount))])
        for _ in range(debts)
    ]  # fmt: skip
    session.add(debtor)
    await session.flush()
    for debt in debtor.debts:
        await ledger_service.open_debt(session=session, debt=debt, components=[("principal", Decimal(amount))])
    await session.flush()
    return debtor, list(debtor.debts)


async def decisions(
    session: AsyncSession, debtor: Debtor, *, now: datetime = NOW, config: OutreachConfig | None = None, **contact: Any
) -> list[planner.Decision]:
    return await planner.plan(
        session=session, config=config or cadence(), contact=open_config(**contact), now=now, debtor_ids=[debtor.id]
    )


async def cases(session: AsyncSession, debtor: Debtor) -> list[OutreachCase]:
    rows = await session.scalars(
        select(OutreachCase)
        .where(OutreachCase.debtor_id == debtor.id)
        .order_by(OutreachCase.debt_id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())
