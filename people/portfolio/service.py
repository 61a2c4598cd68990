"""Importing a portfolio: checked rows upserted by (creditor, reference), in chunks.

A new reference becomes a debt (and, when nobody matches, a debtor) booked in the ledger; a known
one is never duplicated, and a changed amount is booked as a ledger adjustment with its reason
(never overwritten). A debtor is matched by an explicit `debtor_id`, else by name + date of birth
+ country among the creditor's debtors (this file's and earlier ones'). Each chunk is one
transaction; a row with any problem is applied not at all, the others are."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.database import retry_when_locked, utcnow
from money.ledger import service as ledger
from money.ledger.money import from_minor, to_minor
from people.consent import service as consent
from people.debtors import service as debtors
from people.portfolio import reader
from people.portfolio.models import ImportRun
from people.portfolio.rows import Problem, Row, check, settings

Key = tuple[str, str, date, str]  # creditor, folded name, date of birth, country


def person_key(creditor: str, name: str, born: date, country: str | None) -> Key:
    return creditor, " ".join(name.split()).casefold(), born, country or ""


@dataclass
class Report:
    run_id: int
    rows: int = 0
    rejected: int = 0
    debtors_created: int = 0
    debts_created: int = 0
    debts_adjusted: int = 0  # amounts (ledger adjustments) or due date changed
    debts_unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        names = ("rows", "rejected", "debtors_created", "debts_created", "debts_adjusted", "debts_unchanged")
        return {name: getattr(self, name) for name in names}


@dataclass
class _Plan:
    """What one chunk will write, decided before anything is written."""

    problems: list[Problem] = field(default_factory=list)
    new_people: dict[Key, list[Row]] = field(default_factory=dict)
    new_debts: list[tuple[Row, int | Key]] = field(default_factory=list)  # debtor id, or a new person's key
    adjustments: list[ledger.Adjustment] = field(default_factory=list)
    components: list[tuple[int, str, Decimal]] = field(default_factory=list)
    due: dict[int, date] = field(default_factory=dict)
    consents: list[tuple[Row, int | Key]] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0


async def run(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    data: bytes,
    filename: str,
    source: str,
    staff_user_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Import a whole file. Raises reader.Unreadable (nothing applied) when it cannot be read;
    `progress` hears the last line handled after every chunk."""
    extra, records = reader.records(data, filename)
    async with sessionmaker() as session:
        record = ImportRun(filename=filename[:255], source=source, staff_user_id=staff_user_id)
        session.add(record)
        await session.commit()
        report = Report(run_id=record.id, ignored_columns=extra)
    known: dict[Key, int] = {}
    seen: set[tuple[str, str]] = set()
    chunk: list[Row] = []
    last = 0
    for line, fields in records:
        report.rows += 1
        last = line
        checked = check(line, fields)
        if isinstance(checked, Row) and (checked.creditor, checked.reference) in seen:
            checked = [Problem(line, "reference", "duplicate_reference")]
        if isinstance(checked, list):
            report.problems += checked
            continue
        seen.add((checked.creditor, checked.reference))
        chunk.append(checked)
        if len(chunk) >= settings().chunk_size:
            await _chunk(sessionmaker, chunk, report, known)
            chunk = []
            if progress:
                progress(line)
    await _chunk(sessionmaker, chunk, report, known)
    if progress:
        progress(last)
    report.rejected = len({p.line for p in report.problems})
    async with sessionmaker() as session:
        saved = await session.get(ImportRun, report.run_id)
        if saved is not None:
            for name, value in report.counts().items():
                setattr(saved, name, value)
            saved.finished_at = utcnow()
        await session.commit()
    report.problems.sort(key=lambda p: p.line)
    return report


async def _chunk(
    sessionmaker: async_sessionmaker[AsyncSession], rows: list[Row], report: Report, known: dict[Key, int]
) -> None:
    """One transaction; once more when a concurrent import took a reference or case reference first."""
    if not rows:
        return
    for attempt in (1, 2):

        async def work() -> tuple[_Plan, dict[Key, int]]:
            async with sessionmaker() as session:
                plan = await _plan(session, rows, report.run_id, known)
                created = await _write(session, plan, report.run_id)
                await session.commit()
                return plan, created

        try:
            plan, created = await retry_when_locked(work)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    known.update(created)
    report.problems += plan.problems
    report.debtors_created += len(created)
    report.debts_created += len(plan.new_debts)
    report.debts_adjusted += plan.updated
    report.debts_unchanged += plan.unchanged


async def _plan(session: AsyncSession, rows: list[Row], run_id: int, known: dict[Key, int]) -> _Plan:
    plan = _Plan()
    by_creditor: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_creditor[row.creditor].append(row)
    existing: dict[tuple[str, str], debtors.PlacedDebt] = {}
    for creditor, group in by_creditor.items():
        found = await debtors.debts_by_reference(
            session=session, creditor=creditor, references=[r.reference for r in group]
        )
        existing.update({(creditor, ref): debt for ref, debt in found.items()})
    persons = await debtors.people(
        session=session,
        debtor_ids={r.debtor_id for r in rows if r.debtor_id} | {d.debtor_id for d in existing.values()},
    )
    placed = await ledger.placed(session=session, debt_ids=[d.id for d in existing.values()])
    matches: dict[Key, int] = {}
    for creditor, group in by_creditor.items():
        born = {r.date_of_birth for r in group if not r.debtor_id and (creditor, r.reference) not in existing}
        for person in await debtors.creditor_debtors(session=session, creditor=creditor, born=born):
            key = person_key(creditor, person.name, person.date_of_birth, person.country)
            matches[key] = min(matches.get(key, person.id), person.id)
    for row in rows:
        debt = existing.get((row.creditor, row.reference))
        if debt is not None:
            _known_debt(plan, row, debt, persons.get(debt.debtor_id), placed, run_id)
            continue
        owner: int | Key
        if row.debtor_id:
            named = persons.get(row.debtor_id)
            if named is None or named.date_of_birth != row.date_of_birth:
                reason = "unknown_debtor" if named is None else "differs_from_debtor"
                plan.problems.append(Problem(row.line, "debtor_id", reason))
                continue
            owner = row.debtor_id
        else:
            key = person_key(row.creditor, row.name, row.date_of_birth, row.country)
            owner = known.get(key) or matches.get(key) or key
            if owner == key:
                plan.new_people.setdefault(key, []).append(row)
        plan.new_debts.append((row, owner))
        plan.consents.append((row, owner))
    return plan


def _known_debt(
    plan: _Plan,
    row: Row,
    debt: debtors.PlacedDebt,
    owner: debtors.Person | None,
    placed: dict[tuple[int, str], int],
    run_id: int,
) -> None:
    """A reference seen before: same person and currency, else refused; amounts compared with
    what was placed (openings and adjustments), a difference booked with its reason."""
    problems = []
    if row.debtor_id and row.debtor_id != debt.debtor_id:
        problems.append(Problem(row.line, "debtor_id", "other_debtor"))
    if owner is not None and owner.date_of_birth != row.date_of_birth:
        problems.append(Problem(row.line, "date_of_birth", "differs_from_debtor"))
    if debt.currency != row.currency:
        problems.append(Problem(row.line, "currency", "currency_differs"))
    if problems:
        plan.problems += problems
        return
    changes, notes = [], []
    for kind, amount in row.amounts:
        new, old = to_minor(amount, row.currency), placed.get((debt.id, kind), 0)
        if new != old:
            changes.append((kind, new - old))
            notes.append(f"{kind} {from_minor(old, row.currency)}->{from_minor(new, row.currency)}")
        if amount and kind not in debt.components:
            plan.components.append((debt.id, kind, amount))
    if changes:
        reason = f"portfolio import {run_id} line {row.line}: {', '.join(notes)}"
        plan.adjustments.append(
            ledger.Adjustment(
                f"import:{run_id}:{debt.id}", debt.id, debt.debtor_id, row.currency, tuple(changes), reason
            )
        )
    if row.due_date != debt.due_date:
        plan.due[debt.id] = row.due_date
    if changes or row.due_date != debt.due_date:
        plan.updated += 1
    else:
        plan.unchanged += 1
    plan.consents.append((row, debt.debtor_id))


async def _write(session: AsyncSession, plan: _Plan, run_id: int) -> dict[Key, int]:
    """Apply a chunk's plan; returns the debtors created, by their matching key."""
    keys = list(plan.new_people)
    firsts = [plan.new_people[key][0] for key in keys]
    ids = await debtors.add_debtors(
        session=session,
        debtors=[
            debtors.NewDebtor(r.name, r.date_of_birth, r.country, r.locale, r.timezone, r.phone, r.email, r.region)
            for r in firsts
        ],
    )
    created = dict(zip(keys, ids, strict=True))

    def owner_id(owner: int | Key) -> int:
        return owner if isinstance(owner, int) else created[owner]

    new = [
        debtors.NewDebt(
            owner_id(o), r.creditor, r.reference, r.currency, r.due_date, tuple((k, a) for k, a in r.amounts if a)
        )
        for r, o in plan.new_debts
    ]
    debt_ids = await debtors.add_debts(session=session, debts=new)
    await ledger.open_debts(
        session=session,
        placements=[
            ledger.Placement(i, d.debtor_id, d.currency, tuple((k, to_minor(a, d.currency)) for k, a in d.components))
            for i, d in zip(debt_ids, new, strict=True)
        ],
    )
    await debtors.add_components(session=session, components=plan.components)
    await ledger.adjust(session=session, adjustments=plan.adjustments)
    await debtors.set_due_dates(session=session, due=plan.due)
    await consent.record_imported(
        session=session,
        consents=[
            (channel, r.phone, owner_id(o), value)
            for r, o in plan.consents
            if r.phone
            for channel, value in (("sms", r.sms_consent), ("whatsapp", r.whatsapp_opt_in))
            if value is not None
        ],
        source=f"import:{run_id}",
    )
    return created
