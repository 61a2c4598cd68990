"""`python -m tools.reliability` (`make reliability`): every check of issue 8, one table, and
reports/reliability.json. Exit status 1 when anything was lost, leaked or crashed.

A check is a `Check` in CHECKS: its function is sync or async, takes keyword
arguments and returns a Row (tools/reliability/report.py). It receives the options its signature
names: `scale` (1.0 = the sizes issue 8 asks for) and `seed`. `--no-stack` skips the checks that
start the real processes.
"""

from __future__ import annotations

import os

# In this process the inbox queue is huey's in-memory immediate mode (the checks switch it on
# themselves too); never the development queue in var/huey.db. Started stacks get a real queue.
os.environ.setdefault("HUEY_IMMEDIATE", "true")

import argparse
import asyncio
import functools
import inspect
import json
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.tools.reliability import crash, disclosure, forgery, replay
from app.tools.reliability.report import Row, table, to_json


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[..., Row | Awaitable[Row]]  # gets the options its signature names: scale, seed
    stack: bool = False  # starts the real processes (needs `make train`; skipped with --no-stack)


CHECKS: list[Check] = [
    Check("forgery", forgery.run),  # point 2
    Check("replay-sqlite", functools.partial(replay.run, database="sqlite")),  # point 3
    Check("replay-postgres", functools.partial(replay.run, database="postgres")),
    Check("replay-stack", functools.partial(replay.run, stack=True), stack=True),
    Check("crash", crash.run, stack=True),  # point 4
    Check("disclosure", disclosure.run, stack=True),  # point 5
]


async def run_check(check: Check, options: dict[str, Any]) -> Row:
    """One check with the options its signature accepts; a crash becomes a failed row."""
    accepted = inspect.signature(check.run).parameters
    started = time.monotonic()
    try:
        given = {key: value for key, value in options.items() if key in accepted}
        if inspect.iscoroutinefunction(check.run):
            row = await check.run(**given)
        else:  # in a thread: a sync check may run its own event loop (crash.run does)
            row = await asyncio.to_thread(check.run, **given)
    except Exception as exc:
        traceback.print_exc()
        return Row(check.name, 0, detail=f"could not run: {type(exc).__name__}: {exc}", errors=1)
    print(f"[{check.name}] {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return row


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.reliability", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument("--scale", type=float, default=1.0, help="size of every check (1.0 = issue 8's numbers)")
    parser.add_argument("--seed", type=int, default=8, help="seed of the generated requests and orders")
    parser.add_argument(
        "--only", action="append", choices=[check.name for check in CHECKS], help="run only these checks"
    )
    parser.add_argument(
        "--no-stack", dest="stack", action="store_false", help="skip checks that start the real processes"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the report as JSON here")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> list[Row]:
    options = {"scale": args.scale, "seed": args.seed}
    rows = []
    for check in CHECKS:
        if args.only and check.name not in args.only:
            continue
        if check.stack and not args.stack:
            rows.append(Row(check.name, 0, detail="skipped (--no-stack)"))
            continue
        rows.append(await run_check(check, options))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # Stopped (timeout, Ctrl-C in make): unwind, so that started stacks are stopped too.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        rows = asyncio.run(main_async(args))
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(table(rows))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        config = {"scale": args.scale, "seed": args.seed, "stack": args.stack, "at": datetime.now(UTC).isoformat()}
        args.out.write_text(json.dumps(to_json(rows, config), indent=2) + "\n")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
