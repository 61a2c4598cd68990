"""Issue 8 point 3: the replay storm. PostgreSQL at full size in-process (1 000 deliveries of 100
messages and events, ~10 s), and the findings it made, one test each. The SQLite and real-stack
storms run in `make reliability`; they still find "database is locked" under the storm (a lost
receipt, a stalled worker): open, not in the suite until fixed."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import fresh_postgres
from tools.reliability import replay, storm
from tools.reliability.harness import in_process
from tools.reliability.webhooks import pending_payments, stripe_header, stripe_request


@pytest.mark.parametrize(
    ("distinct", "inbound", "payments", "refunds"), [(100, 55, 20, 5), (20, 11, 4, 1), (9, 5, 1, 2)]
)
def test_the_mix_of_messages_and_events(distinct: int, inbound: int, payments: int, refunds: int) -> None:
    channels, made_payments, made_refunds = storm.split(distinct)
    assert (sum(channels.values()), made_payments, made_refunds) == (inbound, payments, refunds)
    assert sum(channels.values()) + 2 * made_payments + made_refunds == distinct
    assert all(channels.values())


async def test_storm_on_postgres_processes_each_message_and_event_exactly_once() -> None:
    async with in_process(database_url=await fresh_postgres("debtor_reliability_replay")) as target:
        verdict, delivered, work = await replay.replay(target, scale=1.0, seed=3)
        row = replay.row("in-process, postgres", verdict, delivered, work, target.crashes)
    assert (row.tried, work.distinct) == (1000, 100)
    assert sum(delivered.statuses.values()) == 1000 and delivered.unacknowledged == 0
    assert row.ok, row.detail


@pytest.mark.xfail(reason="open finding: pooled SQLite connections stall concurrent webhooks", strict=False)
async def test_concurrent_stripe_webhooks_on_sqlite_never_answer_500() -> None:
    """FINDING (open, app/database.py): with SQLite's pooled connections, a few concurrent
    webhooks in one gateway stall ~10 s (the busy timeout) and answer 500 "database is locked".
    The full storm takes > 30 min so; with NullPool for file SQLite it takes 12 s, no error."""
    async with in_process() as target:
        payments = await pending_payments(target, [1500 + i for i in range(10)])
        events = [json.dumps(p.event(kind)).encode() for p in payments for kind in ("checkout.session.completed", "payment_intent.succeeded")]  # fmt: skip
        gate = asyncio.Semaphore(10)

        async def deliver(body: bytes) -> int:
            async with gate:
                return await stripe_request("storm", body, stripe_header(body, target.stripe_secret)).send(target)

        statuses = await asyncio.gather(*(deliver(body) for body in events * 2))
    assert (sorted(set(statuses)), dict(target.crashes)) == ([200], {})


@pytest.mark.xfail(reason="open finding: a receipt whose sending failed is not resent", strict=False)
async def test_a_receipt_that_could_not_be_sent_is_sent_when_stripe_retries() -> None:
    """FINDING (open, payments/views.py): the booking is committed before the receipt is sent; if
    sending fails (here the first notify raises, as a locked SQLite does) the webhook answers 500,
    Stripe delivers the event again, it is a duplicate, and the receipt is never sent."""
    async with in_process() as target:
        [payment] = await pending_payments(target, [1500])
        pipeline = target.app.state.pipeline
        notify, calls = pipeline.notify, []

        async def failing_once(**kwargs: object) -> object:
            calls.append(kwargs)
            if len(calls) == 1:
                raise OperationalError("INSERT INTO messages", {}, Exception("database is locked"))
            return await notify(**kwargs)

        pipeline.notify = failing_once
        body = json.dumps(payment.event("checkout.session.completed")).encode()
        first = await stripe_request("first", body, stripe_header(body, target.stripe_secret)).send(target)
        retry = await stripe_request("retry", body, stripe_header(body, target.stripe_secret)).send(target)
        receipts = [m for m in list(target.twilio.messages) if m.to == payment.number]
    assert (first, retry) == (500, 200)
    assert len(receipts) == 1, "the receipt was lost: the retry was taken for a duplicate"
