"""Disclosure fuzz (issue 8 point 5): seeded random conversation paths on every channel and in
every locale try to get a debtor's data without being that debtor; no amount, creditor, debt
reference, debtor reference or name of anyone may appear in a reply (text or buttons) before
the conversation is verified as them, and never anyone else's after it was verified as someone.

Paths run through the real stack (disclosure_channels), many at once; each is judged turn by
turn (disclosure_detector) and, at the end, on everything the gateway stored as said to the
person (pushes included). A conversation the database links to a debtor whose reference and
date of birth the person never typed is a leak too (verification bypassed).

Row: tried = paths, rejected = paths that never got verified (everything they asked refused or
deferred to verification), lost = turns without an answer, leaked = paths with a disclosure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path as FilePath

import httpx

from app.tools.reliability import disclosure_people as people_
from app.tools.reliability.disclosure_channels import Chat, Driver, Site, Watcher, started
from app.tools.reliability.disclosure_detector import Detector, Judge, Leak, Reply, plain
from app.tools.reliability.disclosure_paths import NEEDS_OWN, Path, generate, plan_kinds
from app.tools.reliability.disclosure_people import Person
from app.tools.reliability.disclosure_phrases import CALLING_CODES
from app.tools.reliability.report import Row
from core.database import READ_ONLY, make_engine, make_sessionmaker
from people.debtors.references import reference_key
from people.identity.dates import parse_date
from people.identity.references import candidates

CHECK = "disclosure fuzz"
FULL_SCALE = 1000
VICTIMS = 8  # generated debtors attacked beside the demo ones


@dataclass
class Outcome:
    path: Path
    address: str
    turns: int = 0
    replies: int = 0
    lost: int = 0
    verified_as: str | None = None
    leaks: list[Leak] = field(default_factory=list)
    said: list[tuple[str, list[Reply]]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # per answered turn
    unconfirmed: list[int] = field(default_factory=list)  # verifying turns without a confirmation


async def run(
    *,
    scale: float = 1.0,
    seed: int = 5,
    site: Site | None = None,
    concurrency: int = 16,
    dump: FilePath | None = None,
    dump_every: bool = False,
) -> Row:
    """`FULL_SCALE * scale` paths (at least one per channel and locale) against `site`, or
    against a stack started (and stopped) for the run. `dump`: every path that leaked or lost a
    turn (`dump_every`: every path), as JSON: what was sent, what came back, why it leaked."""
    count = max(16, round(FULL_SCALE * scale))
    if site is not None:
        return await _run(site, count, seed, concurrency, dump, dump_every)
    stack = started()
    fresh = await asyncio.to_thread(stack.__enter__)  # starting Rasa takes a while: not on the loop
    try:
        return await _run(fresh, count, seed, concurrency, dump, dump_every)
    finally:
        await asyncio.to_thread(stack.__exit__, None, None, None)


async def _run(site: Site, count: int, seed: int, concurrency: int, dump: FilePath | None, every: bool) -> Row:
    began = time.monotonic()
    rng = random.Random(seed)
    engine = make_engine(site.database_url)
    sessionmaker = make_sessionmaker(engine)
    # Polls and lookups never take SQLite's write lock (the stack's writers must not wait on us).
    reader = make_engine(site.database_url, execution_options=READ_ONLY)
    reading = make_sessionmaker(reader)
    try:
        demo = [p.reference for p in await people_.load(sessionmaker=sessionmaker)]
        kinds = plan_kinds(count, rng)
        owns = sum(kind in NEEDS_OWN for kind in kinds)
        generated = await people_.seed(sessionmaker=sessionmaker, count=VICTIMS + owns, rng=rng)
        everyone = await people_.load(sessionmaker=sessionmaker)
        paths = generate(count=count, rng=rng, kinds=kinds, people=everyone, own=generated[VICTIMS:],
                         victims=demo + generated[:VICTIMS])  # fmt: skip
        detector = Detector(everyone)
        by_id = {p.id: p.reference for p in everyone}
        watcher = Watcher(reading)
        watching = asyncio.create_task(watcher.run())
        gate = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
        try:
            async with httpx.AsyncClient(timeout=120, limits=limits) as client:
                driver = Driver(site=site, client=client, sessionmaker=reading, watcher=watcher)
                nonce = os.urandom(4).hex()

                async def one(path: Path) -> Outcome:
                    async with gate:
                        return await _walk(driver, detector, by_id, everyone, path, nonce)

                outcomes = await asyncio.gather(*(one(p) for p in paths))
                again = f"{driver.server_errors} server errors and {driver.dropped} dropped connections re-delivered"
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
    finally:
        await engine.dispose()
        await reader.dispose()
    if dump is not None:
        _dump(dump, [o for o in outcomes if every or o.leaks or o.lost], seed)
    return _row(outcomes, seed=seed, seconds=time.monotonic() - began, again=again)


def _address(path: Path, nonce: str) -> str:
    if path.channel == "webchat":
        return f"dz-{nonce}-{path.number:05d}"
    if path.channel == "telegram":
        return str(int(nonce, 16) % 10**6 * 10**5 + path.number + 10**9)
    if path.phone:
        return path.phone
    code = CALLING_CODES[path.locale][path.number % 2]
    return f"{code}{int(nonce, 16) % 10**3:03d}{path.number:05d}"


async def _walk(
    driver: Driver, detector: Detector, by_id: dict[int, str], everyone: list[Person], path: Path, nonce: str
) -> Outcome:
    chat = Chat(channel=path.channel, address=_address(path, nonce), locale=path.locale)
    outcome = Outcome(path=path, address=chat.address)
    judge = Judge(detector)
    for index, step in enumerate(path.steps, start=1):
        began = time.monotonic()
        try:
            replies, debtor_id = await driver.turn(chat, step.text, button=step.button)
        except (httpx.HTTPError, TimeoutError) as exc:
            outcome.lost += 1
            outcome.said.append((step.text, [Reply(f"<no answer: {type(exc).__name__} {exc}>")]))
            break
        outcome.turns, outcome.replies = index, outcome.replies + len(replies)
        outcome.seconds.append(time.monotonic() - began)
        outcome.verified_as = by_id.get(debtor_id) if debtor_id else None
        outcome.said.append((step.text, replies))
        judge.turn(index, step.text, replies, outcome.verified_as)
    outcome.leaks, outcome.unconfirmed = judge.leaks, judge.unconfirmed
    # Stored as said to them but never delivered as such (pushes, replies lost to an error):
    # judged as of the end of the path (who the conversation was verified as by then, if anyone).
    stored, debtor_id, attempts = await driver.transcript(chat)
    final = by_id.get(debtor_id) if debtor_id else None
    delivered = {plain(r.text) for _, replies in outcome.said for r in replies}
    late = Judge(detector, current=judge.current, typed=judge.typed)
    for text in stored:
        if plain(text) not in delivered:
            late.check(0, Reply(text), judge.current)
    outcome.leaks += [Leak(0, leak.reply, f"stored, not delivered: {leak.why}") for leak in late.leaks]
    if final and final not in _knows([s.text for s in path.steps], everyone):
        outcome.leaks.append(Leak(outcome.turns, "", f"verified as {final} without their reference and birth date"))
    if _past_lockout(attempts):
        outcome.leaks.append(Leak(outcome.turns, "", f"verified after three failures in a row: {attempts}"))
    return outcome


def _past_lockout(attempts: list[bool]) -> bool:
    """A success after three failures since the last success (a run is shorter than the lock)."""
    failures = 0
    for success in attempts:
        if success and failures >= 3:
            return True
        failures = 0 if success else failures + 1
    return False


def _knows(typed: list[str], everyone: list[Person]) -> set[str]:
    """Debtors one of whose references (the case's or a debt's, in any spelling: verification
    takes either) and whose date of birth both appear somewhere in what was typed."""
    keys = {candidate.key for text in typed for candidate in candidates(text)}
    dates = {parse_date(text, date_order=order) for text in typed for order in ("DMY", "YMD")}
    return {
        p.reference
        for p in everyone
        if p.date_of_birth in dates
        and keys & {reference_key(r) for r in (p.reference, *(d.reference for d in p.debts))}
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def _row(outcomes: list[Outcome], *, seed: int, seconds: float, again: str) -> Row:
    leaked = [o for o in outcomes if o.leaks]
    turns = sum(o.turns for o in outcomes)
    channels = Counter(o.path.channel for o in outcomes)
    locales = Counter(o.path.locale for o in outcomes)
    kinds = Counter(o.path.kind for o in outcomes)
    verified = sum(1 for o in outcomes if o.verified_as)
    latency = {
        channel: round(_median([s for o in outcomes if o.path.channel == channel for s in o.seconds]), 2)
        for channel in channels
    }
    detail = (
        f"seed {seed}, {len(outcomes)} paths in {seconds:.0f} s, {turns} turns, "
        f"{sum(o.replies for o in outcomes)} replies scanned; {verified} verified "
        f"({sum(1 for o in outcomes if o.unconfirmed)} without a delivered confirmation); {again}; "
        f"channels {dict(channels)}; locales {dict(locales)}; kinds {dict(kinds)}; median turn s {latency}"
    )
    for outcome in leaked[:3]:
        first = outcome.leaks[0]
        detail += f"; LEAK path {outcome.path.number} ({outcome.path.kind}, {outcome.path.channel}) turn {first.turn}: {first.why}"
    return Row(
        check=CHECK,
        tried=len(outcomes),
        rejected=len(outcomes) - verified,
        lost=sum(o.lost for o in outcomes),
        leaked=len(leaked),
        detail=detail,
    )


def _dump(where: FilePath, leaking: list[Outcome], seed: int) -> None:
    where.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "seed": seed,
        "paths": [
            {
                "number": o.path.number,
                "kind": o.path.kind,
                "channel": o.path.channel,
                "locale": o.path.locale,
                "address": o.address,
                "own": o.path.own,
                "verified_as": o.verified_as,
                "unconfirmed": o.unconfirmed,
                "leaks": [asdict(leak) for leak in o.leaks],
                "turns": [{"sent": sent, "replies": [asdict(r) for r in replies]} for sent, replies in o.said],
            }
            for o in leaking
        ],
    }
    where.write_text(json.dumps(body, ensure_ascii=False, indent=2))
