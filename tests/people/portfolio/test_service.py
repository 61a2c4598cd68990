"""The import on SQLite and PostgreSQL: a valid file applied (debtors, debts, ledger balances),
a re-import changing nothing, a changed amount booked as an adjustment with its reason, refused
rows reported and not applied while the valid ones are, JSON Lines, consents, debtor matching."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from money.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from people.consent import service as consent_service
from people.debtors import service as debtors_service
from people.jurisdiction import service as jurisdiction_service
from people.portfolio import rows as portfolio_rows
from people.portfolio import service
from people.portfolio.rows import Problem
from tests.people.portfolio.portfolio import as_csv, as_jsonl, creditor, debtor, debts_of, row

SE_PHONE = "070-174 06 42"  # PTS fiction range


async def test_valid_file_applied(session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    c = creditor()
    rows = [
        row(c, "AB/2026/0001", phone=SE_PHONE, sms_consent="yes", whatsapp_opt_in="no"),
        row(c, "AB/2026/0002", principal="200", fees="", interest="12.50", due_date="2027-03-01"),
        row(c, "AB/2026/0003", first_name="Jonas", last_name="Becker", date_of_birth="1979-11-03", country="DE",
            language="de", currency="EUR", principal="349.90", fees="58.50", email=""),
    ]  # fmt: skip
    report = await service.run(sessionmaker=sessionmaker, data=as_csv(rows), filename="p.csv", source="cli")
    assert report.counts() == {
        "rows": 3, "rejected": 0, "debtors_created": 2, "debts_created": 3, "debts_adjusted": 0, "debts_unchanged": 0,
    }  # fmt: skip
    assert report.problems == []
    debts = await debts_of(session, c)
    assert debts["AB/2026/0001"].debtor_id == debts["AB/2026/0002"].debtor_id != debts["AB/2026/0003"].debtor_id
    eva = await debtor(session, debts["AB/2026/0001"].debtor_id)
    assert (eva.name, eva.country, eva.locale, eva.timezone, eva.phone) == (
        "Eva Berg", "SE", "sv", "Europe/Stockholm", "+46701740642",
    )  # fmt: skip
    assert eva.reference.startswith("SE-") and len(eva.reference) == 9  # a case reference verification reads
    balance = await debtors_service.open_balance(session=session, debtor_id=eva.id)
    assert balance.totals == (("SEK", Decimal("1262.50")),)
    assert {(d.reference, d.amount) for d in balance.debts} == {
        ("AB/2026/0001", Decimal("1050.00")), ("AB/2026/0002", Decimal("212.50")),
    }  # fmt: skip
    jonas = await debtors_service.open_balance(session=session, debtor_id=debts["AB/2026/0003"].debtor_id)
    assert jonas.totals == (("EUR", Decimal("408.40")),)
    assert not await consent_service.opted_out(session=session, channel="sms", address="+46701740642")
    assert await consent_service.opted_out(session=session, channel="whatsapp", address="+46701740642")


async def _ledger_size(session: AsyncSession, debt_ids: list[int]) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.debt_id.in_(debt_ids)))
    )


async def test_reimport_changes_nothing(session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    c = creditor()
    data = as_csv([row(c, "RE-0001"), row(c, "RE-0002", principal="10.00", fees="")])
    await service.run(sessionmaker=sessionmaker, data=data, filename="p.csv", source="cli")
    debts = await debts_of(session, c)
    entries = await _ledger_size(session, [d.id for d in debts.values()])
    again = await service.run(sessionmaker=sessionmaker, data=data, filename="p.csv", source="cli")
    assert again.counts() == {
        "rows": 2, "rejected": 0, "debtors_created": 0, "debts_created": 0, "debts_adjusted": 0, "debts_unchanged": 2,
    }  # fmt: skip
    assert {r: d.id for r, d in (await debts_of(session, c)).items()} == {r: d.id for r, d in debts.items()}
    assert await _ledger_size(session, [d.id for d in debts.values()]) == entries


async def test_changed_amount_is_an_adjustment_with_its_reason(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = creditor()
    await service.run(sessionmaker=sessionmaker, data=as_csv([row(c, "CH-0001")]), filename="p.csv", source="cli")
    changed = as_csv([row(c, "CH-0001", principal="1200.00", fees="", interest="30.00", due_date="2027-06-30")])
    report = await service.run(sessionmaker=sessionmaker, data=changed, filename="p.csv", source="cli")
    assert (report.debts_adjusted, report.debts_created, report.rejected) == (1, 0, 0)
    [debt] = (await debts_of(session, c)).values()
    adjustment = await session.scalar(
        select(LedgerTransaction)
        .join(LedgerEntry)
        .where(LedgerEntry.debt_id == debt.id, LedgerTransaction.kind == TransactionKind.ADJUSTMENT)
    )
    assert adjustment is not None and adjustment.reason is not None
    assert f"portfolio import {report.run_id} line 2" in adjustment.reason
    assert "principal 1000.00->1200.00" in adjustment.reason and "fees 50.00->0.00" in adjustment.reason
    balance = await debtors_service.open_balance(session=session, debtor_id=debt.debtor_id)
    assert balance.totals == (("SEK", Decimal("1230.00")),)
    assert {(c.kind, c.amount) for c in balance.debts[0].components} == {
        ("principal", Decimal("1200.00")), ("interest", Decimal("30.00")),
    }  # fmt: skip
    assert balance.debts[0].due_date.isoformat() == "2027-06-30"
    # The placed amounts were not overwritten: the opening stands, the adjustment adds to it.
    assert {(c.kind.value, c.amount) for c in debt.components} >= {("principal", Decimal("1000.00"))}
    again = await service.run(sessionmaker=sessionmaker, data=changed, filename="p.csv", source="cli")
    assert (again.debts_unchanged, again.debts_adjusted) == (1, 0)


async def test_refused_rows_reported_and_not_applied_valid_ones_are(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = creditor()
    rows = [
        row(c, "OK-0001"),
        row(c, "BAD-0002", date_of_birth="1980-02-30", phone="12"),
        row(c, "OK-0003", principal="5.00", fees=""),
        row(c, "OK-0001", principal="1.00"),  # the same reference twice in one file
        row(c, "BAD-0005", currency="SEK", principal="1.005"),
    ]
    report = await service.run(sessionmaker=sessionmaker, data=as_csv(rows), filename="p.csv", source="cli")
    assert report.problems == [
        Problem(3, "date_of_birth", "invalid_date"),
        Problem(3, "phone", "invalid_phone"),
        Problem(5, "reference", "duplicate_reference"),
        Problem(6, "principal", "too_many_decimals"),
    ]
    assert (report.rows, report.rejected, report.debts_created) == (5, 3, 2)
    assert set(await debts_of(session, c)) == {"OK-0001", "OK-0003"}
    [first] = [d for r, d in (await debts_of(session, c)).items() if r == "OK-0001"]
    balance = await debtors_service.open_balance(session=session, debtor_id=first.debtor_id)
    assert balance.totals == (("SEK", Decimal("1055.00")),)  # not the duplicate's 1.00


async def test_known_reference_of_another_person_or_currency_is_refused(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = creditor()
    await service.run(sessionmaker=sessionmaker, data=as_csv([row(c, "KN-0001")]), filename="p.csv", source="cli")
    moved = as_csv([row(c, "KN-0001", date_of_birth="1990-01-01"), row(c, "KN-0001", currency="EUR")])
    report = await service.run(sessionmaker=sessionmaker, data=moved, filename="p.csv", source="cli")
    assert Problem(2, "date_of_birth", "differs_from_debtor") in report.problems
    assert report.rejected == 2  # the second line repeats the reference (refused before it is compared)


async def test_jsonl(session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    c = creditor()
    rows = [
        {**row(c, "JL-0001"), "principal": 99.5, "fees": None, "sms_consent": False, "note": "x"},
        row(c, "JL-0002", first_name=""),
    ]
    data = as_jsonl(rows) + b"\n{not json}\n"
    report = await service.run(sessionmaker=sessionmaker, data=data, filename="p.jsonl", source="cli")
    assert report.problems == [Problem(2, "first_name", "required"), Problem(4, "", "invalid_json")]
    assert report.ignored_columns == ["note"]
    [debt] = (await debts_of(session, c)).values()
    balance = await debtors_service.open_balance(session=session, debtor_id=debt.debtor_id)
    assert balance.totals == (("SEK", Decimal("99.50")),)


async def test_consent_yes_never_lifts_the_persons_own_stop(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = creditor()
    phone = "+46701740655"
    await consent_service.set_opted_out(
        session=session, channel="sms", address=phone, opted_out=True, source="keyword:STOP"
    )
    await session.commit()
    data = as_csv([row(c, "CO-0001", phone=phone, sms_consent="yes", whatsapp_opt_in="no")])
    await service.run(sessionmaker=sessionmaker, data=data, filename="p.csv", source="cli")
    assert await consent_service.opted_out(session=session, channel="sms", address=phone)
    data = as_csv([row(c, "CO-0001", phone=phone, sms_consent="yes", whatsapp_opt_in="yes")])
    await service.run(sessionmaker=sessionmaker, data=data, filename="p.csv", source="cli")
    assert await consent_service.opted_out(session=session, channel="sms", address=phone)
    assert not await consent_service.opted_out(session=session, channel="whatsapp", address=phone)  # import's own


async def test_debtor_matched_across_chunks_files_and_by_id(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    small = portfolio_rows.Settings(chunk_size=2, default_timezones=portfolio_rows.settings().default_timezones)
    monkeypatch.setattr(service, "settings", lambda: small)
    c = creditor()
    first = [row(c, f"MA-000{i}", first_name="EVA " if i == 3 else "Eva") for i in range(1, 6)]
    report = await service.run(sessionmaker=sessionmaker, data=as_csv(first), filename="p.csv", source="cli")
    assert (report.debtors_created, report.debts_created) == (1, 5)
    later = await service.run(
        sessionmaker=sessionmaker, data=as_csv([row(c, "MA-0006"), row(c, "MA-0007", country="NO")]),
        filename="p.csv", source="cli",
    )  # fmt: skip
    assert (later.debtors_created, later.debts_created) == (1, 2)  # same name and birth, other country: another person
    debts = await debts_of(session, c)
    assert len({debts[f"MA-000{i}"].debtor_id for i in range(1, 7)}) == 1
    eva = debts["MA-0001"].debtor_id
    other = creditor()  # another creditor's file: matched only by an explicit debtor_id
    named = [
        row(other, "OT-0001", debtor_id=str(eva)),
        row(other, "OT-0002"),
        row(other, "OT-0003", debtor_id="99999999"),
    ]
    columns = [*as_csv([]).decode().strip().split(","), "debtor_id"]
    report = await service.run(sessionmaker=sessionmaker, data=as_csv(named, columns), filename="p.csv", source="cli")
    assert report.problems == [Problem(4, "debtor_id", "unknown_debtor")]
    theirs = await debts_of(session, other)
    assert theirs["OT-0001"].debtor_id == eva != theirs["OT-0002"].debtor_id


async def test_a_region_reaches_the_debtor_and_their_public_holidays(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c = creditor()
    rows = [
        row(c, "BY-0001", first_name="Sepp", last_name="Huber", country="DE", language="en", currency="EUR",
            region="DE-BY"),
        row(c, "BE-0001", first_name="Mia", last_name="Schulz", country="DE", language="de", currency="EUR"),
    ]  # fmt: skip
    report = await service.run(sessionmaker=sessionmaker, data=as_csv(rows), filename="p.csv", source="cli")
    assert report.problems == []
    debts = await debts_of(session, c)
    sepp, mia = [await debtor(session, debts[ref].debtor_id) for ref in ("BY-0001", "BE-0001")]
    assert (sepp.country, sepp.region, mia.region) == ("DE", "BY", None)
    epiphany = date(2027, 1, 6)  # Heilige Drei Könige: Bavaria's, not Germany's
    assert epiphany in jurisdiction_service.holidays_of(sepp)
    assert epiphany not in jurisdiction_service.holidays_of(mia)
