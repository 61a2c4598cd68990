"""Debtors with debts, plans and promises made for reminder tests, the provider channels wired to
the loopback fakes (the real TwilioOutput and TelegramOutput, only the network edge is fake), and
a contact policy that is open around the clock so tests that are not about hours are not."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from channels.base import OutputChannel
from channels.outputs import build_outputs
from locales import Catalog
from money.arrangements.models import Frequency, Installment, PaymentPlan, PaymentPromise
from money.ledger import service as ledger_service
from money.reminders.config import Cap, ContactPolicy, ReminderConfig, load
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor
from tests.conftest import SMS_NUMBER, WHATSAPP_NUMBER
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio

ALWAYS = {day: (time(0, 0), time(23, 59, 59)) for day in range(7)}


def open_config(caps: tuple[Cap, ...] = (), **changes: Any) -> ReminderConfig:
    """The shipped config with every jurisdiction open day and night, public holidays too (and no
    caps unless given)."""
    config = load()
    policy = ContactPolicy(windows=dict(ALWAYS), caps=caps, public_holidays=False)
    return dataclasses.replace(config, countries={code: policy for code in config.countries}, **changes)


def new_phone() -> str:
    return "+4479" + str(uuid.uuid4().int)[:8]


async def make_debtor(
    session: AsyncSession,
    *,
    due: date,
    locale: str = "en",
    timezone: str = "Europe/London",
    preferred: str = "sms",
    phone: str | None = "new",
    currency: str = "GBP",
    amount: str = "120.00",
    country: str | None = None,
    region: str | None = None,
) -> tuple[Debtor, Debt]:
    """A debtor with one open debt (booked in the ledger, so something is owed)."""
    debtor = Debtor(
        reference=f"RM-{uuid.uuid4().hex[:10]}",
        name="Robin Reminder",
        date_of_birth=date(1990, 1, 1),
        locale=locale,
        timezone=timezone,
        country=country,
        region=region,
        phone=new_phone() if phone == "new" else phone,
        preferred_channel=preferred,
    )
    debt = Debt(
        creditor="Test Creditor",
        reference=f"TC-{uuid.uuid4().hex[:8]}",
        currency=currency,
        due_date=due,
        components=[DebtComponent(kind=ComponentKind.PRINCIPAL, amount=Decimal(amount))],
    )
    debtor.debts = [debt]
    session.add(debtor)
    await session.flush()
    await ledger_service.open_debt(session=session, debt=debt, components=[("principal", Decimal(amount))])
    await session.flush()
    return debtor, debt


async def make_plan(session: AsyncSession, debtor: Debtor, debt: Debt, *dues: date) -> PaymentPlan:
    plan = PaymentPlan(
        debtor_id=debtor.id,
        currency=debt.currency,
        debt_ids=[debt.id],
        frequency=Frequency.MONTHLY,
        principal_minor=3000 * len(dues),
    )
    plan.installments = [
        Installment(seq=i, due_date=d, amount_minor=3000, principal_minor=3000) for i, d in enumerate(dues, start=1)
    ]
    session.add(plan)
    await session.flush()
    return plan


async def make_promise(session: AsyncSession, debtor: Debtor, due: date, currency: str = "GBP") -> PaymentPromise:
    promise = PaymentPromise(debtor_id=debtor.id, amount_minor=5000, currency=currency, due_date=due)
    session.add(promise)
    await session.flush()
    return promise


@pytest.fixture
async def outputs(fakes: tuple[FakeTwilio, FakeTelegram]) -> AsyncIterator[dict[str, OutputChannel]]:
    """SMS, WhatsApp and Telegram as the gateway builds them, talking to the loopback fakes."""
    twilio, telegram = fakes
    settings = GatewaySettings(
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=SecretStr(twilio.auth_token),
        twilio_sms_from=SMS_NUMBER,
        twilio_whatsapp_from=WHATSAPP_NUMBER,
        twilio_api_base=twilio.url,
        telegram_bot_token=SecretStr(telegram.token),
        telegram_base_url=telegram.base_url,
        public_base_url="http://127.0.0.1:9",
    )
    built = build_outputs(settings, public_base_url=settings.public_base_url)
    yield built
    for output in built.values():
        await output.aclose()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog()


def to(twilio: FakeTwilio, number: str | None, channel: str = "sms") -> list[str]:
    """Bodies (or template previews) Twilio accepted for this number."""
    address = f"whatsapp:{number}" if channel == "whatsapp" else number
    return [m.body or str(m.content_variables) for m in list(twilio.messages) if m.to == address]
