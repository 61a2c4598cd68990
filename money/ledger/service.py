"""Posting balanced, idempotent transactions and deriving balances from them.

Accounts: `receivable` (what a debtor owes, per debt and component), `creditor` (the claims
placed with us), `cash:<provider>` (money received), `debtor_credit` (overpayments owed back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.activity import Happening, Window
from core.bulk import insert_many
from core.database import table_of
from money.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from money.ledger.money import to_minor
from people.debtors.models import Debt, DebtStatus

RECEIVABLE = "receivable"
CREDITOR = "creditor"
DEBTOR_CREDIT = "debtor_credit"
DEFAULT_ORDER: tuple[str, ...] = ("fees", "interest", "principal")


def cash_account(provider: str) -> str:
    return f"cash:{provider}"


@dataclass(frozen=True)
class Posting:
    account: str
    amount_minor: int
    debt_id: int | None = None
    component: str | None = None
    debtor_id: int | None = None


class UnbalancedTransaction(ValueError):
    pass


async def post(
    *,
    session: AsyncSession,
    kind: TransactionKind,
    key: str,
    currency: str,
    postings: Sequence[Posting],
    payment_id: int | None = None,
) -> LedgerTransaction | None:
    """Post once: a second call with the same key (a replay, a concurrent delivery) returns None."""
    if sum(p.amount_minor for p in postings) != 0:
        raise UnbalancedTransaction(f"{key}: postings sum to {sum(p.amount_minor for p in postings)}")
    if await session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == key)):
        return None
    transaction = LedgerTransaction(kind=kind, idempotency_key=key, currency=currency, payment_id=payment_id)
    transaction.entries = [
        LedgerEntry(
            account=p.account,
            amount_minor=p.amount_minor,
            currency=currency,
            debt_id=p.debt_id,
            component=p.component,
            debtor_id=p.debtor_id,
        )
        for p in postings
        if p.amount_minor
    ]
    try:
        async with session.begin_nested():
            session.add(transaction)
    except IntegrityError:
        return None
    return transaction


async def open_debt(*, session: AsyncSession, debt: Debt, components: Iterable[tuple[str, object]]) -> None:
    """Record a debt placed with us: one receivable per component against the creditor's claim."""
    postings = [
        Posting(RECEIVABLE, to_minor(amount, debt.currency), debt.id, kind, debt.debtor_id)  # type: ignore[arg-type]
        for kind, amount in components
    ]
    postings.append(Posting(CREDITOR, -sum(p.amount_minor for p in postings), debt.id, None, debt.debtor_id))
    await post(
        session=session,
        kind=TransactionKind.OPENING,
        key=f"opening:{debt.id}",
        currency=debt.currency,
        postings=postings,
    )


@dataclass(frozen=True)
class Placement:
    """A new debt placed with us (an import): its components in minor units."""

    debt_id: int
    debtor_id: int
    currency: str
    components: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Adjustment:
    """A creditor changed placed amounts: the change per component (minor units) and why."""

    key: str
    debt_id: int
    debtor_id: int
    currency: str
    changes: tuple[tuple[str, int], ...]
    reason: str


async def _insert(
    session: AsyncSession, kind: TransactionKind, items: Sequence[Placement | Adjustment], keys: Sequence[str]
) -> None:
    """Many balanced transactions in two statements (an import books thousands at once): per item
    its components on `receivable`, their sum against the creditor's claim."""
    reasons = [item.reason[:200] if isinstance(item, Adjustment) else None for item in items]
    # No RETURNING: its row order is only kept row by row; the unique keys give the ids back.
    await insert_many(
        session,
        table_of(LedgerTransaction),
        [
            {"kind": kind, "idempotency_key": key, "currency": item.currency, "reason": reason}
            for item, key, reason in zip(items, keys, reasons, strict=True)
        ],
    )
    found = await session.execute(
        select(LedgerTransaction.idempotency_key, LedgerTransaction.id).where(
            LedgerTransaction.idempotency_key.in_(keys)
        )
    )
    ids = dict(found.tuples().all())
    entries: list[dict[str, object]] = []
    for key, item in zip(keys, items, strict=True):
        transaction_id = ids[key]
        parts = item.components if isinstance(item, Placement) else item.changes
        common = {"transaction_id": transaction_id, "currency": item.currency, "debtor_id": item.debtor_id}
        entries += [
            {**common, "account": RECEIVABLE, "debt_id": item.debt_id, "component": component, "amount_minor": amount}
            for component, amount in parts
            if amount
        ]
        if total := sum(amount for _, amount in parts):
            # The same keys in every row: one executemany (mixed key sets split into many).
            entries.append(
                {**common, "account": CREDITOR, "debt_id": item.debt_id, "component": None, "amount_minor": -total}
            )
    if entries:
        await insert_many(session, table_of(LedgerEntry), entries)


async def open_debts(*, session: AsyncSession, placements: Sequence[Placement]) -> None:
    """`open_debt` for many new debts at once (their opening keys cannot exist yet)."""
    if placements:
        await _insert(session, TransactionKind.OPENING, placements, [f"opening:{p.debt_id}" for p in placements])


async def placed(*, session: AsyncSession, debt_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """What the creditor placed per (debt, component): openings and adjustments, not payments
    (a re-imported file states the claim, not what is still owed)."""
    ids = list(debt_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(LedgerEntry.debt_id, LedgerEntry.component, func.sum(LedgerEntry.amount_minor))
        .join(LedgerTransaction)
        .where(
            LedgerEntry.account == RECEIVABLE,
            LedgerEntry.debt_id.in_(ids),
            LedgerTransaction.kind.in_([TransactionKind.OPENING, TransactionKind.ADJUSTMENT]),
        )
        .group_by(LedgerEntry.debt_id, LedgerEntry.component)
    )
    return {(int(d), str(c)): int(total) for d, c, total in rows.all()}


async def adjust(*, session: AsyncSession, adjustments: Sequence[Adjustment]) -> int:
    """Book changed placed amounts, each key once (amounts are never overwritten: the balance is
    the sum). A debt adjusted to nothing owed is paid; one raised again reopens. Returns how many
    were booked."""
    keys = [a.key for a in adjustments]
    done = set((await session.scalars(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.idempotency_key.in_(keys)))).all()) if keys else set()  # fmt: skip
    todo = [a for a in adjustments if a.key not in done]
    if todo:
        await _insert(session, TransactionKind.ADJUSTMENT, todo, [a.key for a in todo])
        await _sync_status(session, {a.debt_id for a in todo})
    return len(todo)


async def receivables(*, session: AsyncSession, debt_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """Outstanding minor units per (debt, component), derived from every entry ever posted."""
    ids = list(debt_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(LedgerEntry.debt_id, LedgerEntry.component, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.account == RECEIVABLE, LedgerEntry.debt_id.in_(ids))
        .group_by(LedgerEntry.debt_id, LedgerEntry.component)
    )
    return {(int(d), str(c)): int(total) for d, c, total in rows.all()}


def allocate(amount_minor: int, outstanding: Sequence[tuple[int, str, int]]) -> tuple[list[tuple[int, str, int]], int]:
    """Spread a payment over (debt, component, owed) in the given order; returns (takes, leftover)."""
    takes: list[tuple[int, str, int]] = []
    left = amount_minor
    for debt_id, component, owed in outstanding:
        if left <= 0:
            break
        take = min(left, owed)
        if take > 0:
            takes.append((debt_id, component, take))
            left -= take
    return takes, left


async def _sync_status(session: AsyncSession, debt_ids: Iterable[int]) -> None:
    """A debt is paid when nothing is outstanding on it; a refund reopens it."""
    ids = list(debt_ids)
    owed: dict[int, int] = defaultdict(int)
    for (debt_id, _), amount in (await receivables(session=session, debt_ids=ids)).items():
        owed[debt_id] += amount
    for debt in (await session.scalars(select(Debt).where(Debt.id.in_(ids)))).all():
        if owed[debt.id] <= 0 and debt.status is DebtStatus.OPEN:
            debt.status = DebtStatus.PAID
        elif owed[debt.id] > 0 and debt.status is DebtStatus.PAID:
            debt.status = DebtStatus.OPEN


async def record_payment(
    *,
    session: AsyncSession,
    key: str,
    payment_id: int,
    debtor_id: int,
    provider: str,
    currency: str,
    amount_minor: int,
    debts: Sequence[Debt],
    order: Sequence[str] = DEFAULT_ORDER,
) -> LedgerTransaction | None:
    """Allocate money received over the debts (in the order given) and, within each debt, over
    its components in `order` (fees, interest, principal unless the locale's policy differs)."""
    owed = await receivables(session=session, debt_ids=[d.id for d in debts])
    outstanding = [
        (debt.id, component, owed.get((debt.id, component), 0))
        for debt in debts
        if debt.currency == currency
        for component in order
    ]
    takes, leftover = allocate(amount_minor, outstanding)
    postings = [Posting(cash_account(provider), amount_minor, None, None, debtor_id)]
    postings += [Posting(RECEIVABLE, -take, debt_id, component, debtor_id) for debt_id, component, take in takes]
    if leftover:
        postings.append(Posting(DEBTOR_CREDIT, -leftover, None, None, debtor_id))
    transaction = await post(
        session=session,
        kind=TransactionKind.PAYMENT,
        key=key,
        currency=currency,
        postings=postings,
        payment_id=payment_id,
    )
    if transaction is not None:
        await _sync_status(session, [d.id for d in debts])
    return transaction


async def record_refund(
    *, session: AsyncSession, key: str, payment_id: int, debtor_id: int, provider: str, currency: str, amount_minor: int
) -> LedgerTransaction | None:
    """Undo a payment's allocations last-first (overpayment credit, then principal, interest, fees)."""
    rows = (
        await session.execute(
            select(
                LedgerEntry.account,
                LedgerEntry.debt_id,
                LedgerEntry.component,
                LedgerEntry.amount_minor,
                LedgerEntry.id,
            )
            .join(LedgerTransaction)
            .where(LedgerTransaction.payment_id == payment_id, LedgerEntry.account.in_([RECEIVABLE, DEBTOR_CREDIT]))
            .order_by(LedgerEntry.id)
        )
    ).all()
    # Net still allocated per target, in allocation order (credits are negative amounts).
    allocated: dict[tuple[str, int | None, str | None], int] = {}
    for account, debt_id, component, amount, _ in rows:
        allocated[(account, debt_id, component)] = allocated.get((account, debt_id, component), 0) - amount
    targets = [(target, amount) for target, amount in allocated.items() if amount > 0]
    left = amount_minor
    postings = [Posting(cash_account(provider), -amount_minor, None, None, debtor_id)]
    for (account, debt_id, component), amount in reversed(targets):
        give = min(left, amount)
        if give > 0:
            postings.append(Posting(account, give, debt_id, component, debtor_id))
            left -= give
    if left:  # refunded more than was allocated (should not happen): keep the books balanced
        postings.append(Posting(DEBTOR_CREDIT, left, None, None, debtor_id))
    transaction = await post(
        session=session,
        kind=TransactionKind.REFUND,
        key=key,
        currency=currency,
        postings=postings,
        payment_id=payment_id,
    )
    if transaction is not None:
        await _sync_status(session, {d for (_, d, _), _ in targets if d is not None})
    return transaction


async def paid_between(*, session: AsyncSession, debtor_id: int, currency: str, start: object, end: object) -> int:
    """Net money received from a debtor in [start, end) (payments minus refunds), minor units."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
        .join(LedgerTransaction)
        .where(
            LedgerEntry.account.like("cash:%"),
            LedgerEntry.debtor_id == debtor_id,
            LedgerEntry.currency == currency,
            LedgerTransaction.created_at >= start,
            LedgerTransaction.created_at < end,
        )
    )
    return int(total or 0)


async def activity(*, session: AsyncSession, window: Window) -> list[Happening]:
    """Payments and refunds booked in the window, one per debt they reached (the amount that
    debt's receivables went down or up); an overpayment's credit belongs to no debt."""
    keys = (LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.created_at, LedgerTransaction.payment_id,
            LedgerEntry.debtor_id, LedgerEntry.debt_id, LedgerEntry.currency)  # fmt: skip
    rows = await session.execute(
        select(*keys, func.sum(LedgerEntry.amount_minor))
        .join(LedgerEntry)
        .where(
            LedgerTransaction.kind.in_([TransactionKind.PAYMENT, TransactionKind.REFUND]),
            window.where(LedgerTransaction.created_at),
            LedgerEntry.account == RECEIVABLE,
            LedgerEntry.debt_id.is_not(None),
        )
        .group_by(*keys)
    )
    return [
        Happening(at, TransactionKind(kind).value, int(debtor_id), int(debt_id), abs(int(total)), currency,
                  detail=f"payment:{payment_id}" if payment_id else f"transaction:{tx}")
        for tx, kind, at, payment_id, debtor_id, debt_id, currency, total in rows.all()
        if debtor_id is not None and total
    ]  # fmt: skip
