"""The debtor's notice about a payment event (receipt with the new balance, failure, refund),
sent at least once and, short of a crash between sending and recording it, exactly once.

The notice is owed in the write that books the event (`payments.service.handle_event`) and
claimed by the request that booked it. If sending fails, the claim is released and the webhook
answers 5xx, so Stripe redelivers the event: the duplicate is not booked again, but it claims
the notice still owed and sends it. A claim left by a crash expires after `CLAIM_LEASE`; the
gateway's sweep (`send_owed`) sends what is still owed then, whether or not Stripe retries.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.database import retry_when_locked, utcnow
from engine.conversations.pipeline import Pipeline
from money.ledger.money import from_minor
from payments.models import Payment, ProcessedEvent
from payments.service import EventResult, Outcome
from people.debtors import service as debtors_service

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=2)
KEYS = {
    Outcome.SUCCEEDED: "utter_payment_receipt",
    Outcome.REFUNDED: "utter_payment_refunded",
    Outcome.FAILED: "utter_payment_failed",
}


def _claimable(now: datetime) -> list[ColumnElement[bool]]:
    return [
        ProcessedEvent.notice.is_not(None),
        ProcessedEvent.notified_at.is_(None),
        or_(ProcessedEvent.notice_claimed_at.is_(None), ProcessedEvent.notice_claimed_at < now - CLAIM_LEASE),
    ]


async def claim(*, session: AsyncSession, event_id: str, now: datetime | None = None) -> EventResult | None:
    """Claim the notice still owed for `event_id` (none, already sent, or being sent: None)."""
    now = now or utcnow()
    claimed = await session.execute(
        update(ProcessedEvent)
        .where(ProcessedEvent.event_id == event_id, *_claimable(now))
        .values(notice_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    record = await session.get(ProcessedEvent, event_id, populate_existing=True)
    payment = await session.get(Payment, record.payment_id) if record and record.payment_id else None
    if record is None or record.notice is None or payment is None:
        return None
    return EventResult(Outcome(record.notice), payment, record.notice_amount_minor or 0)


async def settle(*, sessionmaker: async_sessionmaker[AsyncSession], event_id: str, sent: bool) -> None:
    """Sent: never again. Not sent: release the claim, so the provider's redelivery (or the sweep)
    can send it."""
    values = {"notified_at": utcnow()} if sent else {"notice_claimed_at": None}

    async def write() -> None:
        async with sessionmaker() as session:
            await session.execute(update(ProcessedEvent).where(ProcessedEvent.event_id == event_id).values(**values))
            await session.commit()

    await retry_when_locked(write)


async def tell_debtor(result: EventResult, *, session: AsyncSession, pipeline: Pipeline) -> None:
    """Say it in the debtor's chat, in its language; the receipt carries the balance left."""
    payment = result.payment
    if payment is None or payment.conversation_id is None or result.outcome not in KEYS:
        return
    key = KEYS[result.outcome]
    balance = await debtors_service.open_balance(session=session, debtor_id=payment.debtor_id)
    totals = [{"currency": c, "amount": str(a)} for c, a in balance.totals]
    if key == "utter_payment_receipt" and not totals:
        key = "utter_payment_receipt_settled"
    money = {
        "amount": str(from_minor(result.amount_minor or payment.amount_minor, payment.currency)),
        "currency": payment.currency,
    }
    conversation_id = payment.conversation_id
    await session.commit()  # end this read before notify opens its own transaction (SQLite: one writer)
    await pipeline.notify(conversation_id=conversation_id, key=key, arguments={"paid_money": money, "totals": totals})


async def send(result: EventResult, *, event_id: str, session: AsyncSession, pipeline: Pipeline) -> None:
    """Send a claimed notice and record it sent; on failure release the claim and re-raise."""
    sessionmaker = pipeline.sessionmaker
    try:
        await tell_debtor(result, session=session, pipeline=pipeline)
    except BaseException:
        try:
            await settle(sessionmaker=sessionmaker, event_id=event_id, sent=False)
        except Exception:
            log.warning("payments.notice_release_failed", extra={"event_id": event_id})
        raise
    await settle(sessionmaker=sessionmaker, event_id=event_id, sent=True)


async def send_owed(*, pipeline: Pipeline) -> int:
    """The sweep: send every notice owed whose claim is free or expired. Returns how many."""
    sessionmaker = pipeline.sessionmaker
    async with sessionmaker() as session:
        owed = list((await session.scalars(select(ProcessedEvent.event_id).where(*_claimable(utcnow())))).all())
        await session.commit()
    sent = 0
    for event_id in owed:
        async with sessionmaker() as session:
            result = await claim(session=session, event_id=event_id)
            await session.commit()
            if result is None:
                continue
            try:
                await send(result, event_id=event_id, session=session, pipeline=pipeline)
            except Exception:
                log.exception("payments.notice_failed", extra={"event_id": event_id})
                continue
            sent += 1
    if sent:
        log.info("payments.notices_sent", extra={"count": sent})
    return sent
