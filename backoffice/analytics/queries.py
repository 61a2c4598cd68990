"""The SQL behind the dashboard: one query per kind of fact, read-only, no N+1.

Each query filters on its own timestamp with the range's UTC edges and computes the bucket index
in SQL with a balanced tree of `CASE WHEN ts < edge` (about log2(buckets) comparisons per row;
plain comparisons, so SQLite and PostgreSQL agree). Additive facts are grouped in SQL (the
bucket is computed in a subquery: PostgreSQL cannot match a GROUP BY expression that carries
bound parameters); facts that need distinct conversations come back as distinct
(conversation, bucket) pairs. Every row carries the dimensions channel, locale and debtor_id
(the debtor decides the experiment variant, see service.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, Select, and_, case, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.analytics.periods import Bucket, Filters
from engine.conversations.models import Conversation, Direction, Message
from handoff.models import Handoff
from money.arrangements.models import (
    Installment,
    InstallmentStatus,
    PaymentPlan,
    PaymentPromise,
    PlanStatus,
    PromiseStatus,
)
from money.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from payments.models import Payment
from people.consent.models import Consent
from people.identity.models import VerificationAttempt

Rows = Sequence[Row[Any]]


def bucket_index(column: Any, buckets: Sequence[Bucket], lo: int = 0, hi: int | None = None) -> ColumnElement[int]:
    """Index of the bucket holding `column` (rows are already limited to the whole range)."""
    hi = len(buckets) if hi is None else hi
    if hi - lo == 1:
        return literal_column(str(lo), Integer)
    mid = (lo + hi) // 2
    return case(
        (column < buckets[mid - 1].end, bucket_index(column, buckets, lo, mid)),
        else_=bucket_index(column, buckets, mid, hi),
    )


def _in_range(column: Any, buckets: Sequence[Bucket]) -> ColumnElement[bool]:
    return and_(column >= buckets[0].start, column < buckets[-1].end)


def _dims(filters: Filters, channel: Any, locale: Any) -> list[ColumnElement[bool]]:
    found = []
    if filters.channel is not None:
        found.append(channel == filters.channel)
    if filters.locale is not None:
        found.append(locale == filters.locale)
    return found


async def _grouped(session: AsyncSession, inner: Select[Any], keys: Sequence[str], sums: Sequence[str] = ()) -> Rows:
    """COUNT(*) and SUMs of `inner` grouped by its `keys` columns."""
    sub = inner.subquery()
    columns = [sub.c[k] for k in keys]
    measures = [func.coalesce(func.sum(sub.c[s]), 0).label(s) for s in sums]
    statement = select(*columns, func.count().label("n"), *measures).group_by(*columns)
    return (await session.execute(statement)).all()


async def conversations(*, session: AsyncSession, filters: Filters, buckets: Sequence[Bucket]) -> Rows:
    """Distinct (conversation, bucket) with at least one inbound message in the bucket."""
    at = Message.created_at
    statement = (
        select(
            Message.conversation_id,
            bucket_index(at, buckets).label("bucket"),
            Conversation.channel,
            Conversation.locale,
            Conversation.debtor_id,
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == Direction.INBOUND, _in_range(at, buckets))
        .where(*_dims(filters, Conversation.channel, Conversation.locale))
        .distinct()
    )
    return (await session.execute(statement)).all()


async def handoffs(*, session: AsyncSession, filters: Filters, buckets: Sequence[Bucket]) -> Rows:
    """Distinct (conversation, bucket, reason) of the handoff cases opened in the bucket."""
    at = Handoff.created_at
    statement = (
        select(
            Handoff.conversation_id,
            bucket_index(at, buckets).label("bucket"),
            Handoff.reason,
            Conversation.channel,
            Conversation.locale,
            Conversation.debtor_id,
        )
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(_in_range(at, buckets), *_dims(filters, Conversation.channel, Conversation.locale))
        .distinct()
    )
    return (await session.execute(statement)).all()


async def verifications(*, session: AsyncSession, filters: Filters, buckets: Sequence[Bucket]) -> Rows:
    """Attempts (n) and successes per conversation and bucket."""
    at = VerificationAttempt.created_at
    inner = (
        select(
            VerificationAttempt.conversation_id,
            bucket_index(at, buckets).label("bucket"),
            Conversation.channel,
            Conversation.locale,
            Conversation.debtor_id,
            case((VerificationAttempt.success, 1), else_=0).label("successes"),
        )
        .join(Conversation, Conversation.id == VerificationAttempt.conversation_id)
        .where(_in_range(at, buckets), *_dims(filters, Conversation.channel, Conversation.locale))
    )
    keys = ("conversation_id", "bucket", "channel", "locale", "debtor_id")
    return await _grouped(session, inner, keys, ("successes",))


async def money(*, session: AsyncSession, filters: Filters, buckets: Sequence[Bucket], kind: TransactionKind) -> Rows:
    """Ledger movements of cash (payments received or refunds paid out) for payments started in a
    conversation: their number (n) and amount in minor units, per currency."""
    at = LedgerTransaction.created_at
    sign = -1 if kind is TransactionKind.REFUND else 1  # a refund credits the cash account
    inner = (
        select(
            bucket_index(at, buckets).label("bucket"),
            Conversation.channel,
            Conversation.locale,
            Payment.debtor_id,
            LedgerTransaction.currency,
            (LedgerEntry.amount_minor * sign).label("amount"),
        )
        .select_from(LedgerTransaction)
        .join(LedgerEntry, and_(LedgerEntry.transaction_id == LedgerTransaction.id, LedgerEntry.account.like("cash:%")))
        .join(Payment, Payment.id == LedgerTransaction.payment_id)
        .join(Conversation, Conversation.id == Payment.conversation_id)
        .where(LedgerTransaction.kind == kind, _in_range(at, buckets))
        .where(*_dims(filters, Conversation.channel, Conversation.locale))
    )
    return await _grouped(session, inner, ("bucket", "channel", "locale", "debtor_id", "currency"), ("amount",))


async def plans(*, session: AsyncSession, filters: Filters, buckets: Sequence[Bucket]) -> Rows:
    """Plans created in the bucket (n) and how many of them are kept: completed, or active with
    no missed installment (at risk and cancelled plans are not)."""
    at = PaymentPlan.created_at
    missed = exists().where(Installment.plan_id == PaymentPlan.id, Installment.status == InstallmentStatus.MISSED)
    kept = and_(PaymentPlan.status.in_([PlanStatus.COMPLETED, PlanStatus.ACTIVE]), ~missed)
    inner = (
        select(
            bucket_index(at, buckets).label("bucket"),
            Conversation.channel,
            Conversation.locale,
            PaymentPlan.debtor_id,
            case((kept, 1), else_=0).label("kept"),
        )
        .select_from(PaymentPlan)
        .outerjoin(Conversation, Conversation.id == PaymentPlan.conversation_id)
        .where(_in_range(at, buckets), *_dims(filters, Conversation.channel, Conversation.locale))
    )
    return await _grouped(session, inner, ("bucket", "channel", "locale", "debtor_id"), ("kept",))


async def promises(*, session: AsyncSession, filters: Filters, buckets: Sequence[Bucket], judged: bool) -> Rows:
    """Promises made in the bucket, or (judged) promises decided in the bucket with how many were kept."""
    at = PaymentPromise.evaluated_at if judged else PaymentPromise.created_at
    inner = (
        select(
            bucket_index(at, buckets).label("bucket"),
            Conversation.channel,
            Conversation.locale,
            PaymentPromise.debtor_id,
            case((PaymentPromise.status == PromiseStatus.KEPT, 1), else_=0).label("kept"),
        )
        .select_from(PaymentPromise)
        .outerjoin(Conversation, Conversation.id == PaymentPromise.conversation_id)
        .where(_in_range(at, buckets), *_dims(filters, Conversation.channel, Conversation.locale))
    )
    if judged:
        inner = inner.where(PaymentPromise.status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]))
    return await _grouped(session, inner, ("bucket", "channel", "locale", "debtor_id"), ("kept",))


async def opt_outs(*, session: AsyncSession, filters: Filters, buckets: Sequence[Bucket]) -> Rows:
    """Channel addresses whose consent changed to opted out in the bucket (and still is: the
    consent table keeps the current state). The locale is that of the address's conversation."""
    at = Consent.changed_at
    inner = (
        select(
            bucket_index(at, buckets).label("bucket"),
            Consent.channel,
            Conversation.locale,
            func.coalesce(Consent.debtor_id, Conversation.debtor_id).label("debtor_id"),
        )
        .select_from(Consent)
        .outerjoin(
            Conversation, and_(Conversation.channel == Consent.channel, Conversation.external_id == Consent.address)
        )
        .where(Consent.opted_out.is_(True), _in_range(at, buckets))
        .where(*_dims(filters, Consent.channel, Conversation.locale))
    )
    return await _grouped(session, inner, ("bucket", "channel", "locale", "debtor_id"))
