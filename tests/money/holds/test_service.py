"""Collection holds (SQLite and PostgreSQL): one debt or all, until released or until they end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from money.holds import service
from money.holds.models import HoldReason
from people.debtors import service as debtors_service
from people.debtors.models import Debtor


async def debtor(session: AsyncSession, reference: str) -> Debtor:
    found = await debtors_service.get_by_reference(session=session, reference=reference)
    assert found is not None
    return found


async def debt_ids(session: AsyncSession, who: Debtor) -> list[int]:
    return [d.id for d in await debtors_service.open_debts(session=session, debtor_id=who.id)]


async def test_a_hold_on_one_debt_pauses_that_debt_only_until_released(session: AsyncSession) -> None:
    anna = await debtor(session, "SE-100234")
    telecom, elkraft = await debt_ids(session, anna)
    assert await service.paused_debt_ids(session=session, debtor_id=anna.id) == set()
    hold = await service.place(
        session=session, debtor_id=anna.id, reason=HoldReason.DISPUTE, debt_id=telecom, source_id=41
    )
    assert hold.id and hold.released_at is None and hold.ends_at is None
    assert await service.paused_debt_ids(session=session, debtor_id=anna.id) == {telecom}
    assert [h.id for h in await service.active(session=session, debtor_id=anna.id)] == [hold.id]
    # Another case's release (other source, or other reason with the same id) leaves it alone.
    assert await service.release(session=session, reason=HoldReason.DISPUTE, source_id=42) == []
    assert await service.release(session=session, reason=HoldReason.HARDSHIP, source_id=41) == []
    assert await service.paused_debt_ids(session=session, debtor_id=anna.id) == {telecom}
    [released] = await service.release(session=session, reason=HoldReason.DISPUTE, source_id=41)
    assert released.id == hold.id and released.released_at is not None
    assert await service.paused_debt_ids(session=session, debtor_id=anna.id) == set()
    assert elkraft not in await service.paused_debt_ids(session=session, debtor_id=anna.id)


async def test_a_hold_without_a_debt_pauses_every_debt_of_that_debtor_only(session: AsyncSession) -> None:
    anna, jonas = await debtor(session, "SE-100234"), await debtor(session, "DE-200871")
    await service.place(session=session, debtor_id=anna.id, reason=HoldReason.HARDSHIP, source_id=7)
    assert await service.paused_debt_ids(session=session, debtor_id=anna.id) == set(await debt_ids(session, anna))
    assert await service.paused_debt_ids(session=session, debtor_id=jonas.id) == set()


async def test_a_hold_counts_only_between_its_start_and_its_end(session: AsyncSession) -> None:
    emily = await debtor(session, "UK-300552")
    [water] = await debt_ids(session, emily)
    now = utcnow()
    await service.place(
        session=session, debtor_id=emily.id, reason=HoldReason.HARDSHIP, debt_id=water, source_id=1,
        now=now, ends_at=now + timedelta(days=30),
    )  # fmt: skip
    assert await service.paused_debt_ids(session=session, debtor_id=emily.id, now=now + timedelta(days=29)) == {water}
    assert await service.paused_debt_ids(session=session, debtor_id=emily.id, now=now + timedelta(days=30)) == set()
    assert await service.paused_debt_ids(session=session, debtor_id=emily.id, now=now - timedelta(minutes=1)) == set()
