from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from people.debtors import service as debtors_service
from people.debtors.seed import seed_demo


async def test_demo_balances_are_exact(session: AsyncSession) -> None:
    expected = {
        "SE-100234": (("SEK", Decimal("4250.00")),),
        "DE-200871": (("EUR", Decimal("408.40")),),
        "UK-300552": (("GBP", Decimal("612.45")),),
        "BR-400918": (("BRL", Decimal("1250.00")),),
    }
    for reference, totals in expected.items():
        debtor = await debtors_service.get_by_reference(session=session, reference=reference)
        assert debtor is not None
        balance = await debtors_service.open_balance(session=session, debtor_id=debtor.id)
        assert balance.totals == totals


async def test_balance_is_itemised(session: AsyncSession) -> None:
    anna = await debtors_service.get_by_reference(session=session, reference="SE-100234")
    assert anna is not None and anna.name == "Anna Lindqvist" and anna.timezone == "Europe/Stockholm"
    balance = await debtors_service.open_balance(session=session, debtor_id=anna.id)
    telecom, power = balance.debts
    assert (telecom.creditor, telecom.amount) == ("Nordic Telecom AB", Decimal("2070.00"))
    assert [(c.kind, c.amount) for c in telecom.components] == [
        ("principal", Decimal("1890.00")),
        ("fees", Decimal("180.00")),
    ]
    assert (power.creditor, power.amount) == ("ElKraft AB", Decimal("2180.00"))


async def test_seed_is_idempotent(session: AsyncSession) -> None:
    assert await seed_demo(session=session) == 0


async def test_unknown_reference(session: AsyncSession) -> None:
    assert await debtors_service.get_by_reference(session=session, reference="XX-000000") is None
