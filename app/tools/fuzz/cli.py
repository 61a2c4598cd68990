"""`make fuzz` / `python -m tools.fuzz`: schemathesis against the gateway's OpenAPI schema, in
process, on a fresh database; prints cases tried and failures per operation and in total, exits 1
on any failure."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from app.tools.fuzz import runner, target
from app.tools.fuzz.runner import Report


def table(report: Report) -> str:
    width = max((len(label) for label in report.operations), default=20)
    lines = [f"{'operation':<{width}}  {'cases':>6}  {'failures':>8}  statuses answered"]
    for label, op in report.operations.items():
        statuses = " ".join(f"{status}x{n}" for status, n in sorted(op.statuses.items()))
        lines.append(f"{label:<{width}}  {op.cases:>6}  {op.failures:>8}  {statuses}")
    for label, reason in report.excluded.items():
        lines.append(f"{label:<{width}}  {'-':>6}  {'-':>8}  excluded: {reason}")
    lines.append(f"{'total':<{width}}  {report.cases:>6}  {report.failures:>8}")
    return "\n".join(lines)


def details(report: Report) -> str:
    """One example per distinct failure, with a curl command to reproduce it."""
    lines: list[str] = []
    for label, op in report.operations.items():
        seen: set[Any] = set()
        for problem in op.problems:
            if problem.key in seen:
                continue
            seen.add(problem.key)
            lines += [f"FAIL {label}: {problem.check} (HTTP {problem.status}) {problem.title}"]
            lines += [f"    {line}" for line in problem.message.splitlines()[:12]]
            lines += [f"    {problem.curl}"]
    lines += [f"ERROR {error}" for error in report.errors]
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "cases": report.cases,
        "failures": report.failures,
        "seconds": round(report.seconds, 1),
        "max_examples": report.max_examples,
        "seed": report.seed,
        "checks": list(runner.CHECKS),
        "operations": {
            label: {"cases": op.cases, "failures": op.failures, "statuses": dict(sorted(op.statuses.items()))}
            for label, op in report.operations.items()
        },
        "excluded": report.excluded,
        "errors": report.errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=50, help="generated cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="operations fuzzed at once (concurrent requests)")
    parser.add_argument("--only", help='regex on "METHOD /path": fuzz only the matching operations')
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database folder")
    args = parser.parse_args(argv)
    # The app's warnings (Rasa down, unknown text keys, ...) are expected here: only what is fatal.
    os.environ.setdefault("LOG_LEVEL", "CRITICAL")
    fuzzed = target.build()
    try:
        report = runner.run(
            fuzzed, max_examples=args.max_examples, seed=args.seed, workers=args.workers, only=args.only
        )
    finally:
        target.close(fuzzed, keep=args.keep)
    if args.keep:
        print(f"database kept in {fuzzed.workdir}")
    print(table(report))
    if report.failures:
        print()
        print(details(report))
    print(
        f"\n{report.cases} cases tried over {len(report.operations)} operations in {report.seconds:.0f} s, "
        f"{report.failures} failure(s) (seed {report.seed}, {report.max_examples} examples per operation and phase)"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(as_json(report), indent=2) + "\n")
    return 1 if report.failures else 0
