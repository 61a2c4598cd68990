"""Two deliveries at the same time, in separate transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.database import make_engine, make_sessionmaker
from app.manage import migrate
from debtors import service as debtors_service
from debtors.seed import seed_demo
from ledger.models import LedgerTransaction, TransactionKind
from payments import service as payments_service
from payments.config import PaymentSettings
from payments.models import Payment
from payments.providers import SandboxProvider
from payments.service import Outcome
from tests.conftest import PG_ADMIN
from tests.payments.conftest import completed, succeeded

PG_DATABASE = "debtor_assistant_concurrency"


@pytest.fixture(params=["sqlite", "postgres"])
async def committed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A real, committing database (no rollback wrapper: concurrency needs separate transactions)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('conc') / 'db.sqlite'}"
    else:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {PG_DATABASE}")
        await admin.close()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    async with maker() as session:
        await seed_demo(session=session)
        await session.commit()
    yield maker
    await engine.dispose()


async def _payment(maker: async_sessionmaker[AsyncSession]) -> Payment:
    async with maker() as session:
        emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
        assert emily
        [payment] = await payments_service.start_checkouts(
            session=session, provider=SandboxProvider(PaymentSettings()), debtor=emily, debt_ids=None, conversation_id=None,
            locale="en", descriptions={}, success_url="http://x", cancel_url="http://x", amount_minor=2500,
        )  # fmt: skip
        await session.commit()
        return payment


async def _deliver(maker: async_sessionmaker[AsyncSession], event: dict) -> Outcome:  # type: ignore[type-arg]
    async with maker() as session:
        result = await payments_service.handle_event(session=session, event=event)
        await session.commit()
        return result.outcome


async def _bookings(maker: async_sessionmaker[AsyncSession], payment_id: int) -> int:
    async with maker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(LedgerTransaction.payment_id == payment_id, LedgerTransaction.kind == TransactionKind.PAYMENT)
            )
            or 0
        )


async def test_same_event_twice_at_once(committed: async_sessionmaker[AsyncSession]) -> None:
    payment = await _payment(committed)
    event = completed(payment, "pi_c1")
    outcomes = await asyncio.gather(_deliver(committed, event), _deliver(committed, event))
    assert sorted(o.value for o in outcomes) == ["duplicate", "succeeded"]
    assert await _bookings(committed, payment.id) == 1


async def test_two_events_for_the_same_money_at_once(committed: async_sessionmaker[AsyncSession]) -> None:
    payment = await _payment(committed)
    outcomes = await asyncio.gather(
        *[_deliver(committed, e) for e in (completed(payment, "pi_c2"), succeeded(payment, "pi_c2")) for _ in range(3)]
    )
    assert [o.value for o in outcomes].count("succeeded") == 1
    assert await _bookings(committed, payment.id) == 1
