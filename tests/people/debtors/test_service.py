from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from people.debtors import service as debtors_service
from people.debtors.models import Debtor
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


async def test_fresh_case_references_never_repeat_one_chosen_in_an_earlier_round(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round one gives the first debtor 000001 (the second's 000002 is taken); round two must not
    give the second debtor 000001 again, though it is not in the table yet."""
    taken = await debtors_service.add_debtors(session=session, debtors=[_new("Taken")])
    assert taken
    existing = await session.get(Debtor, taken[0])
    assert existing is not None
    existing.reference = "ZQ-000002"
    await session.flush()
    draws = iter([1, 2, 1, 3])
    monkeypatch.setattr(debtors_service.secrets, "randbelow", lambda _n: next(draws))
    ids = await debtors_service.add_debtors(session=session, debtors=[_new("First"), _new("Second")])
    found = {d.name: d.reference for d in [await session.get(Debtor, i) for i in ids] if d}
    assert found == {"First": "ZQ-000001", "Second": "ZQ-000003"}


def _new(name: str) -> debtors_service.NewDebtor:
    return debtors_service.NewDebtor(name, date(1970, 1, 1), "ZQ", "en", "Europe/London", None, None)
