"""The payment notice outbox (payments/notices.py): owed in the booking's write, sent once by the
webhook, by Stripe's redelivery when sending failed, or by the sweep after a crash."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.tools.reliability.harness import Target, in_process
from app.tools.reliability.webhooks import PendingPayment, pending_payments, stripe_header, stripe_request
from core.database import utcnow
from engine.conversations.pipeline import Pipeline
from payments import notices
from payments.models import ProcessedEvent


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with in_process() as made:
        yield made


def texts_to(target: Target, payment: PendingPayment) -> list[str]:
    return [m.body for m in list(target.twilio.messages) if m.to == payment.number]


async def deliver(target: Target, payment: PendingPayment, kind: str = "checkout.session.completed") -> tuple[int, str]:
    event = payment.event(kind)
    body = json.dumps(event).encode()
    status = await stripe_request("notice", body, stripe_header(body, target.stripe_secret)).send(target)
    return status, str(event["id"])


async def record(target: Target, event_id: str) -> ProcessedEvent:
    async with target.sessionmaker() as session:
        found = await session.get(ProcessedEvent, event_id)
    assert found is not None
    return found


async def deliver_again(target: Target, payment: PendingPayment, event_id: str) -> int:
    body = json.dumps(payment.event("checkout.session.completed", event_id=event_id)).encode()
    return await stripe_request("again", body, stripe_header(body, target.stripe_secret)).send(target)


def pipeline(target: Target) -> Pipeline:
    return target.app.state.pipeline  # type: ignore[no-any-return]


async def test_the_webhook_sends_the_receipt_once_and_records_it_sent(target: Target) -> None:
    [payment] = await pending_payments(target, [1200])
    status, event_id = await deliver(target, payment)
    row = await record(target, event_id)
    assert status == 200 and len(texts_to(target, payment)) == 1
    assert (row.notice, row.notice_amount_minor, row.notified_at is not None) == ("succeeded", 1200, True)
    # Stripe's redelivery of a notified event sends nothing, and neither does the sweep.
    assert (await deliver_again(target, payment, event_id), await notices.send_owed(pipeline=pipeline(target))) == (
        200,
        0,
    )
    assert len(texts_to(target, payment)) == 1


async def test_a_notice_being_sent_is_not_claimed_by_a_concurrent_duplicate(target: Target) -> None:
    [payment] = await pending_payments(target, [1300])
    _, event_id = await deliver(target, payment)
    async with target.sessionmaker() as session:  # as if the first request were still sending it
        await session.execute(
            update(ProcessedEvent).where(ProcessedEvent.event_id == event_id).values(notified_at=None, notice_claimed_at=utcnow())
        )  # fmt: skip
        await session.commit()
        assert await notices.claim(session=session, event_id=event_id) is None
        # A claim older than the lease was left by a crash: it can be taken over.
        later = utcnow() + notices.CLAIM_LEASE + timedelta(seconds=1)
        taken = await notices.claim(session=session, event_id=event_id, now=later)
        await session.rollback()
    assert taken is not None and (taken.outcome.value, taken.amount_minor) == ("succeeded", 1300)


async def test_the_sweep_sends_a_notice_a_crash_left_unsent_exactly_once(target: Target) -> None:
    [payment, other] = await pending_payments(target, [1400, 1500])
    _, event_id = await deliver(target, payment)
    await deliver(target, other)
    long_ago = utcnow() - notices.CLAIM_LEASE - timedelta(minutes=1)
    async with target.sessionmaker() as session:  # booked and claimed, then the gateway died
        await session.execute(
            update(ProcessedEvent).where(ProcessedEvent.event_id == event_id).values(notified_at=None, notice_claimed_at=long_ago)
        )  # fmt: skip
        await session.commit()
    assert await notices.send_owed(pipeline=pipeline(target)) == 1
    assert await notices.send_owed(pipeline=pipeline(target)) == 0
    assert [len(texts_to(target, p)) for p in (payment, other)] == [2, 1]  # the crash's resend, once
    assert (await record(target, event_id)).notified_at is not None


async def test_a_failed_send_releases_the_claim_and_answers_busy(target: Target) -> None:
    [payment] = await pending_payments(target, [1600])
    app_pipeline = pipeline(target)
    notify = app_pipeline.notify

    async def unreachable(**kwargs: object) -> object:
        raise ConnectionError("channel down")

    app_pipeline.notify = unreachable
    try:
        status, event_id = await deliver(target, payment)
    finally:
        app_pipeline.notify = notify
    row = await record(target, event_id)
    assert status == 500 and texts_to(target, payment) == []
    assert (row.notice, row.notice_claimed_at, row.notified_at) == ("succeeded", None, None)
    assert await notices.send_owed(pipeline=app_pipeline) == 1 and len(texts_to(target, payment)) == 1
