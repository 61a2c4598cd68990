"""Start payments and apply provider events to the ledger — each event once, each payment once.

Idempotency has two layers: the event id (`processed_events`, a replay or a concurrent
duplicate is a no-op) and the payment (`payment:<id>` is the ledger transaction's unique key,
so `checkout.session.completed` and `payment_intent.succeeded` for the same money, in either
order, book it once).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics
from core.database import utcnow
from money.holds import service as holds_service
from money.ledger import service as ledger_service
from money.ledger.money import from_minor
from money.policies.service import policy_for, policy_of
from payments.models import Payment, PaymentStatus, ProcessedEvent
from payments.providers import CheckoutProvider, CheckoutRequest
from people.debtors import service as debtors_service
from people.debtors.models import Debt, Debtor

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    DUPLICATE = "duplicate"  # event already processed
    IGNORED = "ignored"  # not about a payment of ours, or nothing to change
    SUCCEEDED = "succeeded"  # money booked now: send a receipt
    FAILED = "failed"  # the attempt failed: tell the debtor
    REFUNDED = "refunded"


NOTICES = frozenset({Outcome.SUCCEEDED, Outcome.FAILED, Outcome.REFUNDED})


class CollectionPaused(ValueError):
    """A payment was requested for debts on which collection is paused (a dispute, a hardship
    pause): the callers should never get here, this is the last line of defence."""

    def __init__(self, debt_ids: set[int]) -> None:
        super().__init__(f"collection is paused on debts {sorted(debt_ids)}")
        self.debt_ids = debt_ids


@dataclass(frozen=True)
class EventResult:
    outcome: Outcome
    payment: Payment | None = None
    amount_minor: int = 0


async def start_checkouts(
    *,
    session: AsyncSession,
    provider: CheckoutProvider,
    debtor: Debtor,
    debt_ids: list[int] | None,
    conversation_id: str | None,
    locale: str,
    descriptions: dict[str, str],
    success_url: str,
    cancel_url: str,
    amount_minor: int | None = None,
    installment_id: int | None = None,
) -> list[Payment]:
    """One Checkout Session per currency over the chosen open debts (all when debt_ids is None).
    `descriptions` maps currency to the line-item text shown on the payment page.

    Debts on hold are never asked for: naming one raises CollectionPaused; "all" (None) means
    every open debt that is not on hold."""
    paused = await holds_service.paused_debt_ids(session=session, debtor_id=debtor.id)
    if debt_ids is not None and paused & set(debt_ids):
        raise CollectionPaused(paused & set(debt_ids))
    debts = await debtors_service.open_debts(session=session, debtor_id=debtor.id, debt_ids=debt_ids)
    debts = [d for d in debts if d.id not in paused]
    owed = await ledger_service.receivables(session=session, debt_ids=[d.id for d in debts])
    by_currency: dict[str, list[Debt]] = defaultdict(list)
    for debt in debts:
        by_currency[debt.currency].append(debt)
    payments = []
    for currency, group in sorted(by_currency.items()):
        balance = sum(v for (debt_id, _), v in owed.items() if debt_id in {d.id for d in group})
        amount = min(amount_minor, balance) if amount_minor else balance
        if amount <= 0:
            continue
        payment = Payment(
            debtor_id=debtor.id,
            conversation_id=conversation_id,
            provider=provider.name,
            currency=currency,
            amount_minor=amount,
            debt_ids=[d.id for d in group],
            installment_id=installment_id,
        )
        session.add(payment)
        await session.flush()
        checkout = await provider.create_checkout(
            CheckoutRequest(
                payment_id=payment.id,
                currency=currency,
                amount_minor=amount,
                description=descriptions.get(currency, currency),
                locale=locale,
                customer_email=debtor.email,
                success_url=success_url,
                cancel_url=cancel_url,
            )
        )
        payment.checkout_session_id, payment.checkout_url = checkout.id, checkout.url
        payments.append(payment)
    await session.flush()
    return payments


async def _find(
    session: AsyncSession, *, session_id: str | None, intent_id: str | None, metadata: dict[str, Any] | None
) -> Payment | None:
    if session_id:
        found = (await session.scalars(select(Payment).where(Payment.checkout_session_id == session_id))).first()
        if found:
            return found
    if intent_id:
        found = (await session.scalars(select(Payment).where(Payment.payment_intent_id == intent_id))).first()
        if found:
            return found
    raw = (metadata or {}).get("payment_id")
    if raw and str(raw).isdigit():
        return await session.get(Payment, int(raw))
    return None


async def _capture(session: AsyncSession, payment: Payment, amount_minor: int) -> EventResult:
    debtor = await debtors_service.get(session=session, debtor_id=payment.debtor_id)
    # Locked (PostgreSQL; SQLite has one writer anyway) before the receivables are read: two
    # payments on the same debt at once would otherwise both take the same fees.
    locked = select(Debt).where(Debt.id.in_(payment.debt_ids)).order_by(Debt.id).with_for_update()
    debts = list((await session.scalars(locked)).all())
    debts.sort(key=lambda d: payment.debt_ids.index(d.id))
    # The allocation order is law (e.g. §367 BGB): the debtor's jurisdiction, never their language.
    order = (policy_of(debtor) if debtor else policy_for(country=None)).allocation_order
    transaction = await ledger_service.record_payment(
        session=session,
        key=f"payment:{payment.id}",
        payment_id=payment.id,
        debtor_id=payment.debtor_id,
        provider=payment.provider,
        currency=payment.currency,
        amount_minor=amount_minor,
        debts=debts,
        order=order,
    )
    if transaction is None:
        return EventResult(Outcome.IGNORED, payment)
    payment.status, payment.succeeded_at, payment.failure_reason = PaymentStatus.SUCCEEDED, utcnow(), None
    return EventResult(Outcome.SUCCEEDED, payment, amount_minor)


async def handle_event(*, session: AsyncSession, event: dict[str, Any]) -> EventResult:
    """Apply one verified provider event. The caller commits (and sends any receipt after)."""
    event_id, kind = str(event.get("id") or ""), str(event.get("type") or "")
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    if not event_id:
        return EventResult(Outcome.IGNORED)
    record = ProcessedEvent(event_id=event_id, type=kind)
    try:
        async with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return EventResult(Outcome.DUPLICATE)
    result = await _apply(session, kind, obj)
    if notice_due(result):
        # Owed in the same write as the booking, claimed by this request, which sends it next.
        assert result.payment is not None
        record.payment_id, record.notice = result.payment.id, result.outcome.value
        record.notice_amount_minor, record.notice_claimed_at = result.amount_minor, utcnow()
    return result


def count_booking(result: EventResult) -> None:
    """Money booked, for /metrics (per currency, no ids); called once the booking is committed."""
    if result.outcome is Outcome.SUCCEEDED and result.payment is not None:
        metrics.payment_booked(result.payment.currency, from_minor(result.amount_minor, result.payment.currency))


def notice_due(result: EventResult) -> bool:
    """The debtor is told about money booked, refunded or failed, in the chat the link went to."""
    payment = result.payment
    return result.outcome in NOTICES and payment is not None and payment.conversation_id is not None


async def _apply(session: AsyncSession, kind: str, obj: dict[str, Any]) -> EventResult:
    if kind == "checkout.session.completed":
        payment = await _find(
            session, session_id=obj.get("id"), intent_id=obj.get("payment_intent"), metadata=obj.get("metadata")
        )
        if payment is None:
            return EventResult(Outcome.IGNORED)
        payment.payment_intent_id = payment.payment_intent_id or obj.get("payment_intent")
        if obj.get("payment_status") != "paid":
            return EventResult(Outcome.IGNORED, payment)
        return await _capture(session, payment, int(obj.get("amount_total") or payment.amount_minor))
    if kind == "payment_intent.succeeded":
        payment = await _find(session, session_id=None, intent_id=obj.get("id"), metadata=obj.get("metadata"))
        if payment is None:
            return EventResult(Outcome.IGNORED)
        payment.payment_intent_id = payment.payment_intent_id or obj.get("id")
        return await _capture(
            session, payment, int(obj.get("amount_received") or obj.get("amount") or payment.amount_minor)
        )
    if kind == "payment_intent.payment_failed":
        payment = await _find(session, session_id=None, intent_id=obj.get("id"), metadata=obj.get("metadata"))
        if payment is None or payment.status is not PaymentStatus.PENDING:
            return EventResult(Outcome.IGNORED, payment)
        payment.payment_intent_id = payment.payment_intent_id or obj.get("id")
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = str((obj.get("last_payment_error") or {}).get("message") or "")[:500]
        return EventResult(Outcome.FAILED, payment)
    if kind == "charge.refunded":
        payment = await _find(
            session, session_id=None, intent_id=obj.get("payment_intent"), metadata=obj.get("metadata")
        )
        refunded = int(obj.get("amount_refunded") or 0)
        if payment is None or refunded <= payment.refunded_minor:
            return EventResult(Outcome.IGNORED, payment)
        delta = refunded - payment.refunded_minor
        await ledger_service.record_refund(
            session=session,
            key=f"refund:{payment.id}:{refunded}",
            payment_id=payment.id,
            debtor_id=payment.debtor_id,
            provider=payment.provider,
            currency=payment.currency,
            amount_minor=delta,
        )
        payment.refunded_minor = refunded
        full = refunded >= int(obj.get("amount") or payment.amount_minor)
        payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
        return EventResult(Outcome.REFUNDED, payment, delta)
    return EventResult(Outcome.IGNORED)


async def by_checkout_session(*, session: AsyncSession, checkout_session_id: str) -> Payment | None:
    return (await session.scalars(select(Payment).where(Payment.checkout_session_id == checkout_session_id))).first()
