"""Queries over debtors and debts. Keyword-only functions taking an AsyncSession."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.bulk import insert_many
from core.database import table_of
from money.ledger import service as ledger_service
from money.ledger.money import from_minor
from people.debtors.models import ComponentKind, Debt, DebtComponent, Debtor, DebtStatus
from people.debtors.references import reference_key


@dataclass(frozen=True)
class ComponentLine:
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class DebtLine:
    id: int
    creditor: str
    reference: str
    currency: str
    due_date: date
    amount: Decimal
    components: tuple[ComponentLine, ...]


@dataclass(frozen=True)
class Balance:
    debts: tuple[DebtLine, ...]
    totals: tuple[tuple[str, Decimal], ...]  # (currency, amount), sorted by currency


async def get_by_reference(*, session: AsyncSession, reference: str) -> Debtor | None:
    return await session.scalar(select(Debtor).where(Debtor.reference == reference))


async def by_reference_key(*, session: AsyncSession, key: str) -> list[Debtor]:
    """Debtors whose case reference, or one of whose debts' creditor references, has this key
    (references.py): a reference typed in any spelling. Several when creditors' formats collide."""
    owning = select(Debt.debtor_id).where(Debt.reference_key == key)
    query = select(Debtor).where(or_(Debtor.reference_key == key, Debtor.id.in_(owning))).order_by(Debtor.id)
    return list((await session.scalars(query)).all())


async def known_reference_keys(*, session: AsyncSession, keys: Iterable[str]) -> set[str]:
    """Which of these keys name a case or a debt (to tell the reference in a sentence apart)."""
    wanted = list(set(keys))
    if not wanted:
        return set()
    found = union(
        select(Debtor.reference_key).where(Debtor.reference_key.in_(wanted)),
        select(Debt.reference_key).where(Debt.reference_key.in_(wanted)),
    )
    return {key for key in (await session.scalars(select(found.subquery().c[0]))).all() if key}


async def get(*, session: AsyncSession, debtor_id: int) -> Debtor | None:
    return await session.get(Debtor, debtor_id)


async def open_debts(*, session: AsyncSession, debtor_id: int, debt_ids: list[int] | None = None) -> list[Debt]:
    """Open debts, oldest due first (the order payments are allocated in)."""
    query = select(Debt).where(Debt.debtor_id == debtor_id, Debt.status == DebtStatus.OPEN)
    if debt_ids is not None:
        query = query.where(Debt.id.in_(debt_ids))
    return list(
        (await session.scalars(query.options(selectinload(Debt.components)).order_by(Debt.due_date, Debt.id))).all()
    )


async def open_balance(*, session: AsyncSession, debtor_id: int) -> Balance:
    """Every open debt of the debtor, itemised, and the total per currency — derived from the
    ledger, so payments and refunds show up without anything being overwritten."""
    debts = await open_debts(session=session, debtor_id=debtor_id)
    owed = await ledger_service.receivables(session=session, debt_ids=[d.id for d in debts])
    totals: dict[str, Decimal] = defaultdict(Decimal)
    lines = []
    for debt in debts:
        components = tuple(
            ComponentLine(kind=c.kind.value, amount=from_minor(owed.get((debt.id, c.kind.value), 0), debt.currency))
            for c in debt.components
        )
        components = tuple(c for c in components if c.amount > 0)
        amount = sum((c.amount for c in components), Decimal("0"))
        if amount <= 0:
            continue
        totals[debt.currency] += amount
        lines.append(
            DebtLine(
                id=debt.id,
                creditor=debt.creditor,
                reference=debt.reference,
                currency=debt.currency,
                due_date=debt.due_date,
                amount=amount,
                components=components,
            )
        )
    return Balance(debts=tuple(lines), totals=tuple(sorted(totals.items())))


# Bulk writes for the portfolio import (people/portfolio): thousands of rows per statement.


@dataclass(frozen=True)
class PlacedDebt:
    id: int
    debtor_id: int
    currency: str
    due_date: date
    components: frozenset[str]


@dataclass(frozen=True)
class KeyedDebt:
    """A debt as the creditor names it (the export back to the agency keys every row so)."""

    id: int
    creditor: str
    reference: str
    currency: str


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    date_of_birth: date
    country: str | None


@dataclass(frozen=True)
class NewDebtor:
    name: str
    date_of_birth: date
    country: str
    locale: str
    timezone: str
    phone: str | None
    email: str | None
    region: str | None = None


@dataclass(frozen=True)
class NewDebt:
    debtor_id: int
    creditor: str
    reference: str
    currency: str
    due_date: date
    components: tuple[tuple[str, Decimal], ...]


async def debts_by_reference(
    *, session: AsyncSession, creditor: str, references: Iterable[str]
) -> dict[str, PlacedDebt]:
    """A creditor's debts by their own reference (the import's upsert key)."""
    refs = list(references)
    if not refs:
        return {}
    rows = await session.execute(
        select(Debt.reference, Debt.id, Debt.debtor_id, Debt.currency, Debt.due_date, DebtComponent.kind)
        .outerjoin(DebtComponent)
        .where(Debt.creditor == creditor, Debt.reference.in_(refs))
    )  # columns, not objects: an import reads thousands per chunk
    found: dict[str, tuple[tuple[int, int, str, date], set[str]]] = {}
    for ref, debt_id, debtor_id, currency, due, kind in rows.tuples().all():
        found.setdefault(ref, ((debt_id, debtor_id, currency, due), set()))[1].update([kind.value] if kind else [])
    return {ref: PlacedDebt(*head, frozenset(kinds)) for ref, (head, kinds) in found.items()}


async def creditor_debtors(*, session: AsyncSession, creditor: str, born: Iterable[date]) -> list[Person]:
    """Debtors who already owe this creditor, born on one of these dates (an import matches its
    rows to them by name, date of birth and country)."""
    dates = list(set(born))
    if not dates:
        return []
    rows = await session.execute(
        select(Debtor.id, Debtor.name, Debtor.date_of_birth, Debtor.country)
        .where(Debtor.date_of_birth.in_(dates), Debtor.id.in_(select(Debt.debtor_id).where(Debt.creditor == creditor)))
    )  # fmt: skip
    return [Person(*row) for row in rows.all()]


async def keyed_debts(*, session: AsyncSession, debtor_ids: Iterable[int]) -> dict[int, list[KeyedDebt]]:
    """Every debt of these debtors (whatever its status), per debtor, in id order; read in slices
    so that a large export stays under SQLite's bound-parameter limit."""
    ids, found = sorted(set(debtor_ids)), defaultdict[int, list[KeyedDebt]](list)
    for start in range(0, len(ids), 5000):
        rows = await session.execute(
            select(Debt.debtor_id, Debt.id, Debt.creditor, Debt.reference, Debt.currency)
            .where(Debt.debtor_id.in_(ids[start : start + 5000]))
            .order_by(Debt.id)
        )
        for debtor_id, debt_id, creditor, reference, currency in rows.tuples().all():
            found[debtor_id].append(KeyedDebt(debt_id, creditor, reference, currency))
    return dict(found)


async def people(*, session: AsyncSession, debtor_ids: Iterable[int]) -> dict[int, Person]:
    ids = list(set(debtor_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Debtor.id, Debtor.name, Debtor.date_of_birth, Debtor.country).where(Debtor.id.in_(ids))
    )
    return {row[0]: Person(*row) for row in rows.all()}


async def _free_references(session: AsyncSession, countries: list[str]) -> list[str]:
    """New case references `CC-123456` (the shape verification reads), none already taken."""
    chosen: list[str | None] = [None] * len(countries)
    given: set[str] = set()  # chosen in earlier rounds: not in the table yet, taken all the same
    while missing := [i for i, ref in enumerate(chosen) if ref is None]:
        tries = {i: f"{countries[i]}-{secrets.randbelow(10**6):06d}" for i in missing}
        query = select(Debtor.reference).where(Debtor.reference.in_(tries.values()))
        taken = set((await session.scalars(query)).all()) | given
        for i, ref in tries.items():
            if ref not in taken:
                chosen[i] = ref
                taken.add(ref)
                given.add(ref)
    return [ref for ref in chosen if ref is not None]


async def add_debtors(*, session: AsyncSession, debtors: Sequence[NewDebtor]) -> list[int]:
    """Insert new debtors with fresh case references; their ids in the same order."""
    if not debtors:
        return []
    refs = await _free_references(session, [d.country for d in debtors])
    # No RETURNING: its row order is only kept row by row; the fresh references give the ids back.
    await insert_many(
        session,
        table_of(Debtor),
        [
            {**vars(d), "reference": ref, "reference_key": reference_key(ref)}
            for d, ref in zip(debtors, refs, strict=True)
        ],
    )
    found = dict(
        (await session.execute(select(Debtor.reference, Debtor.id).where(Debtor.reference.in_(refs)))).tuples().all()
    )
    return [found[ref] for ref in refs]


async def add_debts(*, session: AsyncSession, debts: Sequence[NewDebt]) -> list[int]:
    """Insert new debts with their components (non-zero ones); their ids in the same order. The
    caller books them in the ledger (the balance is the ledger's)."""
    if not debts:
        return []
    await insert_many(
        session,
        table_of(Debt),
        [
            {**{k: v for k, v in vars(d).items() if k != "components"}, "reference_key": reference_key(d.reference)}
            for d in debts
        ],
    )
    by_creditor: dict[str, list[str]] = defaultdict(list)
    for d in debts:
        by_creditor[d.creditor].append(d.reference)
    found: dict[tuple[str, str], int] = {}
    for creditor, refs in by_creditor.items():
        rows = await session.execute(
            select(Debt.reference, Debt.id).where(Debt.creditor == creditor, Debt.reference.in_(refs))
        )
        found.update({(creditor, ref): debt_id for ref, debt_id in rows.tuples().all()})
    ids = [found[(d.creditor, d.reference)] for d in debts]
    await add_components(
        session=session,
        components=[
            (debt_id, kind, amount) for debt_id, d in zip(ids, debts, strict=True) for kind, amount in d.components
        ],
    )
    return ids


async def add_components(*, session: AsyncSession, components: Sequence[tuple[int, str, Decimal]]) -> None:
    """Components (debt id, kind, amount as placed); a re-import adds a kind the debt lacked."""
    rows = [{"debt_id": i, "kind": ComponentKind(k), "amount": a} for i, k, a in components if a]
    if rows:
        await insert_many(session, table_of(DebtComponent), rows)


async def set_due_dates(*, session: AsyncSession, due: dict[int, date]) -> None:
    """The creditor moved due dates (amounts are never rewritten: those are ledger adjustments)."""
    for debt_id, when in due.items():
        await session.execute(update(Debt).where(Debt.id == debt_id).values(due_date=when))
