"""Issue 8 point 3, the replay storm: 1 000 deliveries of 100 distinct messages and events, in
random order and concurrently, must each be processed exactly once, with exact ledger totals.

What "processed" means, observably (tools/reliability/storm.py builds the material):
- inbound: exactly one InboundEvent and one inbound transcript row per message, and what the
  debtor got back is exactly what one delivery gives. In-process (Rasa not running) that is one
  "replies are delayed" message at the fake; on the real stack (`stack=True`) the event is done and
  the replies at the fake (and stored) equal those of a single "hi" on that channel, measured first.
- Stripe: one PAYMENT ledger transaction per payment (two events each), one REFUND per refund
  event, every event id recorded once, cash received net of refunds exactly the sum expected,
  every transaction balanced, no receivable component below zero, and exactly one receipt (plus
  one refund notice) at the fake per payment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app import worker
from app.tools.reliability.harness import Target, in_process, stack_target
from app.tools.reliability.report import Row
from app.tools.reliability.storm import Deliveries, Inbound, Plan, plan, storm
from app.tools.reliability.storm import inbound as new_inbound
from engine.conversations.models import Conversation, Direction, Message
from engine.inbox.models import InboundEvent, InboxStatus
from money.ledger.models import LedgerEntry, LedgerTransaction, TransactionKind
from payments.models import ProcessedEvent
from tests.databases import fresh_postgres

DISTINCT, DELIVERIES, CONCURRENCY = 100, 1000, 20
BUDGET = 300.0  # seconds of storm at scale 1 in `make reliability` (a healthy gateway needs ~15)
WORKER_THREADS = int(os.environ.get("RELIABILITY_WORKER_THREADS", "4"))


@dataclass
class Verdict:
    lost: list[str] = field(default_factory=list)  # items not processed (or less than once)
    leaked: list[str] = field(default_factory=list)  # items processed more than once
    errors: list[str] = field(default_factory=list)  # broken invariants that are neither
    notes: list[str] = field(default_factory=list)


def _judge(verdict: Verdict, item: str, got: int, want: int) -> None:
    if got < want:
        verdict.lost.append(f"{item}: {got}/{want}")
    elif got > want:
        verdict.leaked.append(f"{item}: {got}/{want}")


def sends(target: Target, inbound: Inbound) -> int:
    """Messages the fakes accepted for this sender."""
    if inbound.channel == "telegram":
        return sum(1 for m in list(target.telegram.sent) if str(m.chat_id) == inbound.address)
    to = f"whatsapp:{inbound.address}" if inbound.channel == "whatsapp" else inbound.address
    return sum(1 for m in list(target.twilio.messages) if m.to == to)


async def _per_conversation(target: Target, inbound: Inbound) -> tuple[int, int, int, bool]:
    """(events, inbound transcript rows, outbound rows, every event done) for one message."""
    async with target.sessionmaker() as session:
        events = (
            await session.scalars(
                select(InboundEvent.status).where(
                    InboundEvent.channel == inbound.channel, InboundEvent.provider_message_id == inbound.provider_id
                )
            )
        ).all()
        rows: dict[Direction, int] = dict(
            (d, n)
            for d, n in (
                await session.execute(
                    select(Message.direction, func.count())
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(Conversation.channel == inbound.channel, Conversation.external_id == inbound.address)
                    .group_by(Message.direction)
                )
            ).all()
        )
    done = bool(events) and all(s == InboxStatus.DONE for s in events)
    return len(events), rows.get(Direction.INBOUND, 0), rows.get(Direction.OUTBOUND, 0), done


async def check_inbound(target: Target, work: Plan, verdict: Verdict, expected: dict[str, tuple[int, int]]) -> None:
    """`expected`: per channel, (outbound rows, sends at the fake) one delivery gives."""
    for inbound in work.inbound:
        name = f"{inbound.channel}:{inbound.provider_id}"
        events, inbound_rows, outbound_rows, done = await _per_conversation(target, inbound)
        _judge(verdict, f"{name} events", events, 1)
        _judge(verdict, f"{name} transcript", inbound_rows, 1)
        rows_wanted, sends_wanted = expected[inbound.channel]
        _judge(verdict, f"{name} replies stored", outbound_rows, rows_wanted)
        _judge(verdict, f"{name} replies sent", sends(target, inbound), sends_wanted)
        if not target.in_process and not done:
            verdict.lost.append(f"{name}: not processed")


async def check_ledger(target: Target, work: Plan, verdict: Verdict) -> None:
    ids = [p.id for p in work.payments]
    async with target.sessionmaker() as session:
        kinds = Counter(
            (payment_id, kind)
            for payment_id, kind in (
                await session.execute(
                    select(LedgerTransaction.payment_id, LedgerTransaction.kind).where(
                        LedgerTransaction.payment_id.in_(ids)
                    )
                )
            ).all()
        )
        seen = set((await session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_([e.event_id for e in work.events])))).all())  # fmt: skip
        entries = (
            await session.execute(
                select(LedgerEntry.transaction_id, LedgerEntry.account, LedgerEntry.amount_minor)
                .join(LedgerTransaction)
                .where(LedgerTransaction.payment_id.in_(ids))
            )
        ).all()
        negative = (
            await session.execute(
                select(LedgerEntry.debt_id, LedgerEntry.component, func.sum(LedgerEntry.amount_minor))
                .where(LedgerEntry.account == "receivable")
                .group_by(LedgerEntry.debt_id, LedgerEntry.component)
                .having(func.sum(LedgerEntry.amount_minor) < 0)
            )
        ).all()
    for payment in work.payments:
        _judge(verdict, f"payment {payment.id} booked", kinds[(payment.id, TransactionKind.PAYMENT)], 1)
        _judge(
            verdict,
            f"payment {payment.id} refunded",
            kinds[(payment.id, TransactionKind.REFUND)],
            int(payment.id in work.refunds),
        )
        receipts = sum(1 for m in list(target.twilio.messages) if m.to == payment.number)
        _judge(verdict, f"payment {payment.id} receipts", receipts, 1 + int(payment.id in work.refunds))
    verdict.lost += [f"event {e.event_id} not recorded" for e in work.events if e.event_id not in seen]
    cash = sum(amount for _, account, amount in entries if account.startswith("cash:"))
    expected = sum(p.amount_minor for p in work.payments) - sum(work.refunds.values())
    verdict.notes.append(
        f"cash net {cash} = expected {expected}" if cash == expected else f"cash net {cash} != {expected}"
    )
    if cash != expected:
        verdict.errors.append(f"cash received net {cash}, expected {expected} (minor units, all currencies)")
    balance: Counter[int] = Counter()
    for transaction_id, _, amount in entries:
        balance[transaction_id] += amount
    verdict.errors += [f"transaction {t} unbalanced by {s}" for t, s in balance.items() if s]
    verdict.errors += [f"receivable {debt}/{component} below zero: {total}" for debt, component, total in negative]


async def settle(target: Target, work: Plan, expected: dict[str, tuple[int, int]], *, within: float = 300) -> None:
    """On the real stack the worker answers after the acknowledgement: wait until every message
    got its replies, then a little longer, so duplicates would have time to show."""
    if target.in_process:
        # What the worker's periodic sweep does: re-queue events whose retry time has come
        # (one whose processing failed, e.g. on a busy SQLite, waits for exactly this).
        await asyncio.to_thread(worker.sweep)
        return
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(sends(target, i) >= expected[i.channel][1] for i in work.inbound):
            break
        await asyncio.sleep(1)
    await asyncio.sleep(5)


async def calibrate(target: Target, *, rng: random.Random) -> dict[str, tuple[int, int]]:
    """(stored replies, sends) for one "hi" per channel, delivered once, on this target."""
    if target.in_process:
        return {"sms": (1, 1), "whatsapp": (1, 1), "telegram": (1, 1)}  # the "replies are delayed" notice
    probes = {channel: new_inbound(target, channel, rng=rng) for channel in ("sms", "whatsapp", "telegram")}
    for inbound in probes.values():
        await inbound.request.send(target)
    work = Plan(list(probes.values()), [], [], {})
    await settle(target, work, {c: (0, 1) for c in probes})
    measured: dict[str, tuple[int, int]] = {}
    for channel, inbound in probes.items():
        _, _, outbound, _ = await _per_conversation(target, inbound)
        measured[channel] = (outbound, sends(target, inbound))
    return measured


async def replay(
    target: Target,
    *,
    scale: float = 1.0,
    seed: int = 3,
    concurrency: int = CONCURRENCY,
    budget: float | None = None,
) -> tuple[Verdict, Deliveries, Plan]:
    """Calibrate, plan, storm, wait for the worker, judge. `budget`: seconds after which only
    first deliveries are still sent (every item is delivered at least once regardless)."""
    rng = random.Random(seed)
    expected = await calibrate(target, rng=rng)
    work = await plan(target, distinct=max(9, round(DISTINCT * scale)), rng=rng)
    with _workers(target, WORKER_THREADS):
        delivered = await storm(
            target,
            work,
            deliveries=max(work.distinct, round(DELIVERIES * scale)),
            concurrency=concurrency,
            rng=rng,
            budget=budget,
        )
    await settle(target, work, expected)
    verdict = Verdict()
    await check_inbound(target, work, verdict, expected)
    await check_ledger(target, work, verdict)
    return verdict, delivered, work


def row(
    label: str,
    verdict: Verdict,
    delivered: Deliveries,
    work: Plan,
    crashes: Counter[str],
    concurrency: int = CONCURRENCY,
) -> Row:
    channels = ", ".join(f"{c} {n}" for c, n in Counter(i.channel for i in work.inbound).items())
    statuses = ", ".join(f"{s}x{n}" for s, n in sorted(delivered.statuses.items()))
    parts = [
        f"{work.distinct} distinct ({channels}, {len(work.events)} Stripe events for {len(work.payments)} payments, "
        f"{len(work.refunds)} refunded), concurrency {concurrency}",
        f"answers {statuses}, {delivered.retries} redeliveries (Telegram, Stripe) after 429/5xx, "
        f"{delivered.unacknowledged} never acknowledged",
        *([f"time budget ran out: {delivered.skipped} repeats not sent"] if delivered.skipped else []),
        *verdict.notes,
        f"{delivered.seconds:.1f} s",
    ]
    for name, problems in (("LOST", verdict.lost), ("DUPLICATED", verdict.leaked), ("BROKEN", verdict.errors)):
        if problems:
            more = f" (+{len(problems) - 10})" if len(problems) > 10 else ""
            parts.append(f"{name}: " + "; ".join(problems[:10]) + more)
    if crashes:
        parts.append("SERVER ERRORS: " + "; ".join(f"{name} x{n}" for name, n in crashes.most_common(5)))
    detail = "; ".join(parts)
    tried = sum(delivered.statuses.values())
    errors = len(verdict.errors) + delivered.unacknowledged
    return Row(f"replay storm ({label})", tried, 0, len(verdict.lost), len(verdict.leaked), detail, errors)


@contextlib.contextmanager
def _workers(target: Target, threads: int) -> Iterator[None]:
    """In-process, inbox tasks run on the event loop's default executor (worker.enqueue uses
    asyncio.to_thread): bound it like `huey_consumer -w N`, so the storm is not also a fight of
    a dozen threads for one GIL and one SQLite write lock that the real, separate worker
    process never has."""
    if not target.in_process:
        yield
        return
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inbox-worker") as pool:
        loop.set_default_executor(pool)
        try:
            yield
        finally:
            loop.set_default_executor(ThreadPoolExecutor())


@contextlib.asynccontextmanager
async def _target(database: str, stack: bool) -> AsyncIterator[Target]:
    if stack:
        async with stack_target() as target:
            yield target
    elif database == "postgres":
        async with in_process(database_url=await fresh_postgres("debtor_reliability_replay")) as target:
            yield target
    else:
        async with in_process() as target:
            yield target


async def run(
    *, scale: float = 1.0, seed: int = 3, database: str = "sqlite", stack: bool = False, budget: float = BUDGET
) -> Row:
    """`database`: "sqlite" or "postgres" (in-process); `stack=True`: the real processes on SQLite."""
    label = "real stack, sqlite" if stack else f"in-process, {database}"
    async with _target(database, stack) as target:
        verdict, delivered, work = await replay(target, scale=scale, seed=seed, budget=budget * max(scale, 0.1))
    return row(label, verdict, delivered, work, target.crashes)
