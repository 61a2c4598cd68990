"""Crash under load (issue 8, point 4): kill Rasa, then the action server, then the inbox worker
with SIGKILL while many debtors talk over SMS, WhatsApp and Telegram, restart each, and count.

The load: the benchmark's scripted conversations (tools/bench/conversations.py, four locales),
one debtor per conversation, all at once, each sending its next message once the previous one is
answered or `turn_timeout` passed (so messages pile up in the inbox during an outage). Inbound
goes through the durable path only: signed webhook -> inbox (committed before the 200) -> huey
worker -> Rasa -> replies at the fake Twilio/Telegram APIs. Web chat is left out: it answers
within the request, so nothing of it is queued that a crash could lose.

The faults: each process is killed (SIGKILL, its whole process group) when a random share of the
planned messages has been sent (Rasa in 15-30 %, actions in 40-55 %, worker in 65-80 %), restarted
at once, and the next kill waits until it is back. After the last message, the inbox is given
`drain_timeout` to empty. crash_count.py says how replies are attributed; `Row.lost` is messages
not answered, `Row.leaked` replies out of order and messages answered twice, `Row.errors`
webhooks not acknowledged (the gateway is never killed: it should take every message).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from app.tools.bench import conversations
from app.tools.reliability.crash_count import Tally, tally
from app.tools.reliability.crash_load import Debtor, Mailbox, Notices, Webhooks, converse, make_debtors
from app.tools.reliability.crash_stack import Setup, own_stack, pending, restart, sigkill
from app.tools.reliability.report import Row, table
from tests.stack import Stack

CHECK = "crash under load"
FULL_SCALE_DEBTORS = 40
PROCESSES = ("rasa", "actions", "worker")
# When each is killed: a share of the planned messages sent, drawn in this band.
KILLS = (("rasa", 0.15, 0.30), ("actions", 0.40, 0.55), ("worker", 0.65, 0.80))


@dataclass
class Kill:
    process: str
    at_message: int
    back_after_s: float = 0.0


@dataclass
class Progress:
    planned: int
    debtors: list[Debtor] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(len(d.sent) for d in self.debtors)

    async def reached(self, share: float) -> None:
        while True:  # polled: debtors append to their own lists, nobody signals
            if self.sent >= share * self.planned:
                return
            await asyncio.sleep(0.1)


def bands(names: Sequence[str]) -> list[tuple[str, float, float]]:
    """The default bands for Rasa, actions, worker; any other list spread evenly over 10-90 %."""
    if tuple(names) == PROCESSES:
        return list(KILLS)
    step = 0.8 / max(1, len(names))
    return [(name, 0.1 + i * step, 0.1 + (i + 0.5) * step) for i, name in enumerate(names)]


async def chaos(stack: Stack, progress: Progress, rng: random.Random, names: Sequence[str]) -> list[Kill]:
    kills = []
    for name, low, high in bands(names):
        await progress.reached(rng.uniform(low, high))
        kill = Kill(name, progress.sent)
        await asyncio.to_thread(sigkill, stack, name)
        began = time.monotonic()
        await asyncio.to_thread(restart, stack, name)
        kill.back_after_s = round(time.monotonic() - began, 1)
        kills.append(kill)
    return kills


async def _drained(setup: Setup, mailbox: Mailbox, addresses: list[str], within: float) -> float:
    """Until nothing of ours is pending and no reply came for 2 s (or `within` s); seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < within:
        if time.monotonic() - mailbox.last_at > 2.0 and await pending(setup.stack.database_url, addresses) == 0:
            break
        await asyncio.sleep(1.0)
    return round(time.monotonic() - began, 1)


@dataclass
class Outcome:
    tally: Tally
    kills: list[Kill]
    load_s: float
    drain_s: float
    seed: int
    trackers: str = "memory"


async def measure(
    setup: Setup,
    *,
    debtors_count: int,
    seed: int,
    turn_timeout: float = 20.0,
    drain_timeout: float = 240.0,
    kills: Sequence[str] = PROCESSES,
    trackers: str = "memory",
) -> Outcome:
    """The load with the kills against `setup`, then the count (see the module docstring)."""
    rng = random.Random(seed)
    debtors = make_debtors(conversations.plan(debtors_count), rng=rng)
    progress = Progress(planned=sum(len(d.script.turns) for d in debtors), debtors=debtors)
    notices = Notices()
    mailbox = Mailbox(setup.twilio, setup.telegram, notices)
    webhooks = Webhooks(
        gateway_url=setup.stack.gateway_url,
        twilio_auth_token=setup.twilio.auth_token,
        telegram_secret=setup.telegram_secret,
        sms_number=setup.sms_number,
        whatsapp_number=setup.whatsapp_number,
    )
    stop = asyncio.Event()
    polling = asyncio.create_task(mailbox.run(stop))
    began = time.monotonic()
    try:
        limits = httpx.Limits(max_connections=debtors_count, max_keepalive_connections=debtors_count)
        async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
            load = asyncio.gather(
                *(
                    converse(d, client=client, webhooks=webhooks, mailbox=mailbox, turn_timeout=turn_timeout)
                    for d in debtors
                )
            )
            done, _ = await asyncio.gather(chaos(setup.stack, progress, rng, kills), load)
        loaded = round(time.monotonic() - began, 1)
        waited = await _drained(setup, mailbox, [d.address for d in debtors], drain_timeout)
    finally:
        stop.set()
        await polling
    counted = await tally(debtors, mailbox=mailbox, database_url=setup.stack.database_url, notice=notices)
    return Outcome(counted, done, loaded, waited, seed, trackers)


def row(outcome: Outcome) -> Row:
    counted = outcome.tally
    killed = ", ".join(f"{k.process} at message {k.at_message} (back in {k.back_after_s} s)" for k in outcome.kills)
    detail = (
        f"sent {counted.sent} / answered {counted.answered} / lost {counted.lost}"
        f" ({counted.never_stored} never stored, {counted.pending} still pending);"
        f" {counted.debtors_all_answered}/{counted.debtors} debtors answered every message;"
        f" out of order {counted.disordered}; received twice in a row (resent after a kill) {counted.repeated};"
        f" not acknowledged {counted.not_acknowledged};"
        f" answered twice {counted.reprocessed}; replies stored but never sent {counted.stored_not_sent};"
        f" off-script answers {counted.off_script}; delay notices {counted.notices}; killed {killed};"
        f" load {outcome.load_s} s, drain {outcome.drain_s} s; Rasa trackers {outcome.trackers}; seed {outcome.seed}"
    )
    if counted.samples:
        detail += "; e.g. " + " | ".join(counted.samples)
    if counted.off_script_samples:
        detail += "; off-script e.g. " + " | ".join(counted.off_script_samples)
    return Row(
        check=CHECK,
        tried=counted.sent,
        errors=counted.not_acknowledged,
        lost=counted.lost,
        leaked=counted.disordered + counted.reprocessed,
        detail=detail,
    )


def run(
    *,
    scale: float = 1.0,
    setup: Setup | None = None,
    seed: int | None = 4,
    turn_timeout: float = 20.0,
    drain_timeout: float = 240.0,
    kills: Sequence[str] = PROCESSES,
    trackers: str = "memory",
) -> Row:
    """The check at `scale` (1.0: 40 debtors, 340 messages) against `setup`, or a stack of its own.
    `seed` picks the kill points (None: a random one, printed in the detail); `kills` which
    processes, in order (e.g. ("worker",) * 9); `trackers="sql"` gives our own stack's Rasa
    persistent trackers (bot/endpoints-sharded.yml) instead of the in-memory default."""
    chosen = seed if seed is not None else random.SystemRandom().randrange(2**31)

    def go(on: Setup, used: str) -> Row:
        return row(
            asyncio.run(
                measure(
                    on,
                    debtors_count=max(4, round(FULL_SCALE_DEBTORS * scale)),
                    seed=chosen,
                    turn_timeout=turn_timeout,
                    drain_timeout=drain_timeout,
                    kills=tuple(kills),
                    trackers=used,
                )
            )
        )

    if setup is not None:
        return go(setup, "memory")  # bot/endpoints.yml, as the test stack runs it
    with own_stack(trackers=trackers) as ours:
        return go(ours, trackers)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tools.reliability.crash`: this check alone (`python -m tools.reliability` runs all)."""
    parser = argparse.ArgumentParser(prog="python -m tools.reliability.crash", description=CHECK)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 40 debtors, 340 messages")
    parser.add_argument("--seed", type=int, default=4, help="picks the kill points (-1: random)")
    parser.add_argument("--kill", action="append", choices=PROCESSES, help="processes to kill, in order (repeatable)")
    parser.add_argument("--trackers", choices=("memory", "sql"), default="memory", help="Rasa's tracker store")
    args = parser.parse_args(argv)
    result = run(
        scale=args.scale,
        seed=None if args.seed < 0 else args.seed,
        kills=args.kill or PROCESSES,
        trackers=args.trackers,
    )
    print(table([result]))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
