"""`python -m tools.bench`: the same scripted conversations through bare Rasa and through the full
stack, webhook acknowledgements under the full load, model training time; a table on stdout and
reports/bench.json.

Order: a warm-up through both paths, then bare Rasa, then the full stack (with the webhooks).
They share the action server, the NLG endpoint and the database, so whatever the first phase
leaves behind (rows, trackers when Rasa is shared) weighs on the full stack, not the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.tools.bench import conversations, processes, report
from app.tools.bench.profile import Profiler
from app.tools.bench.rss import RssSampler
from app.tools.bench.runner import BareRasa, Gateway, PhaseResult, Target, WebhookProbe, run_conversations

DEFAULT_OUT = Path("reports/bench.json")


async def _phase(
    target: Target,
    scripts: list[conversations.Script],
    targets: processes.Targets,
    *,
    concurrency: int,
    checker: conversations.Checker,
    turn_timeout: float,
    webhook_rate: float = 0.0,
) -> tuple[PhaseResult, dict[str, dict[str, float]], dict[str, Any] | None]:
    sampler = RssSampler(targets.phase_pids(target.name))
    sampler.reset_peaks()
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    probe = WebhookProbe(targets, rate=webhook_rate) if webhook_rate > 0 else None
    probing = asyncio.create_task(probe.run(stop)) if probe else None
    try:
        result = await run_conversations(
            target,
            scripts,
            concurrency=concurrency,
            checker=checker,
            turn_timeout=turn_timeout,
            prefix=f"bench-{target.name}",
        )
    finally:
        stop.set()
        await sampling
        webhook_result = await probing if probing else None
    return result, sampler.result_mb(), report.webhooks(webhook_result) if webhook_result else None


async def benchmark(
    targets: processes.Targets,
    *,
    concurrency: int,
    conversations_count: int,
    webhook_rate: float,
    warmup: int,
    turn_timeout: float = 60.0,
    training: dict[str, Any] | None = None,
    database: str = "sqlite",
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    """Run both phases against running processes and build the report."""
    checker = conversations.Checker()
    scripts = conversations.plan(conversations_count)
    bare, full = BareRasa(targets.baseline_url, token=targets.rasa_token), Gateway(targets.gateway_url)
    if warmup:
        for target in (bare, full):
            await run_conversations(
                target, conversations.plan(warmup), concurrency=concurrency, checker=checker, turn_timeout=turn_timeout,
                prefix="bench-warmup",
            )  # fmt: skip
    bare_result, bare_rss, _ = await _phase(
        bare, scripts, targets, concurrency=concurrency, checker=checker, turn_timeout=turn_timeout
    )
    profiler = Profiler(targets.phase_pids(full.name), profile_dir) if profile_dir else None
    if profiler:
        profiler.start()
    try:
        full_result, full_rss, webhook = await _phase(
            full,
            scripts,
            targets,
            concurrency=concurrency,
            checker=checker,
            turn_timeout=turn_timeout,
            webhook_rate=webhook_rate,
        )
    finally:
        profile = profiler.stop() if profiler else None
    config = {
        "concurrency": concurrency,
        "conversations": conversations_count,
        "turns_per_conversation": round(sum(len(s.turns) for s in scripts) / max(1, len(scripts)), 2),
        "locales": sorted({s.locale for s in scripts}),
        "webhook_rate_per_s": webhook_rate,
        "warmup_conversations": warmup,
        "order": ["warmup", "bare_rasa", "full"],
        "bare_rasa_process": "separate stock Rasa" if targets.bare_rasa_url else "the stack's Rasa (REST channel)",
        "database": database,
        "cpus": os.cpu_count(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    built = report.build(
        full=report.phase(full_result, full_rss),
        bare=report.phase(bare_result, bare_rss),
        webhook=webhook,
        training=training,
        config=config,
    )
    if profile is not None:
        built["profile"] = {"directory": str(profile_dir), "rate_hz": profiler.rate if profiler else None, **profile}
    return built


def _training(args: argparse.Namespace) -> dict[str, Any] | None:
    if not args.skip_training:
        print("Timing a cold `rasa train` (the stack is not started yet)...", flush=True)
        seconds = processes.train_seconds()
        return {"seconds": round(seconds, 1), "measured": True, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    if args.out.exists():  # the time recorded by an earlier run, said to be so
        try:
            earlier = json.loads(args.out.read_text()).get("training")
        except (OSError, ValueError):
            earlier = None
        if isinstance(earlier, dict) and isinstance(earlier.get("seconds"), int | float):
            return {**earlier, "measured": False}
    return None


def _pid(value: str) -> tuple[str, int]:
    name, _, pid = value.partition("=")
    if not name or not pid.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PID, got {value!r}")
    return name, int(pid)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=20, help="conversations in flight (default 20)")
    parser.add_argument("--conversations", type=int, default=200, help="conversations per phase (default 200)")
    parser.add_argument("--webhook-rate", type=float, default=1.0, help="webhooks per second, full phase")
    parser.add_argument("--warmup", type=int, default=8, help="unmeasured conversations per path first")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one turn may take")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON report (default reports/bench.json)")
    parser.add_argument("--profile", type=Path, help="py-spy the full phase's processes; raw stacks go here")
    parser.add_argument("--skip-training", action="store_true", help="reuse the training time in --out, if any")
    parser.add_argument("--database-url", help="database for the started stack (default: SQLite in a temp dir)")
    parser.add_argument("--gateway-url", help="use a running stack instead of starting one (with --rasa-url)")
    parser.add_argument("--rasa-url", help="that stack's Rasa (its REST channel is the baseline by default)")
    parser.add_argument("--bare-rasa-url", help="a stock Rasa with the same model for the baseline")
    parser.add_argument("--shared-rasa", action="store_true", help="no separate baseline Rasa (saves ~650 MB)")
    parser.add_argument(
        "--pid", action="append", type=_pid, default=[], metavar="NAME=PID", help="a process to watch (RSS, CPU)"
    )
    parser.add_argument("--twilio-auth-token", help="that stack's Twilio auth token (for signed webhooks)")
    parser.add_argument("--telegram-secret", help="that stack's Telegram webhook secret")
    parser.add_argument(
        "--rasa-token", default=os.environ.get("RASA_AUTH_TOKEN"), help="that stack's RASA_AUTH_TOKEN (default: env)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.concurrency < 1 or args.conversations < 1 or args.webhook_rate < 0 or args.warmup < 0:
        print("concurrency and conversations must be at least 1, rates and warm-up not negative", file=sys.stderr)
        return 2
    if bool(args.gateway_url) != bool(args.rasa_url):
        print("--gateway-url and --rasa-url go together", file=sys.stderr)
        return 2
    try:
        return _run(args)
    except (RuntimeError, TimeoutError, OSError) as exc:  # training failed, a process did not come up
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    training = _training(args)
    options = {
        "concurrency": args.concurrency,
        "conversations_count": args.conversations,
        "warmup": args.warmup,
        "turn_timeout": args.timeout,
        "training": training,
        "profile_dir": args.profile,
    }
    if args.gateway_url:
        targets = processes.Targets(
            gateway_url=args.gateway_url.rstrip("/"),
            rasa_url=args.rasa_url.rstrip("/"),
            bare_rasa_url=args.bare_rasa_url.rstrip("/") if args.bare_rasa_url else None,
            pids=dict(args.pid),
            twilio_auth_token=args.twilio_auth_token,
            telegram_secret=args.telegram_secret,
            rasa_token=args.rasa_token,
        )
        rate = args.webhook_rate if targets.twilio_auth_token and targets.telegram_secret else 0.0
        result = asyncio.run(benchmark(targets, webhook_rate=rate, database="external", **options))
    else:
        print("Starting Rasa, the action server, the gateway and the inbox worker...", flush=True)
        database = "postgresql" if (args.database_url or "").startswith("postgres") else "sqlite"
        with processes.started(database_url=args.database_url, separate_baseline=not args.shared_rasa) as targets:
            print(f"Running {args.conversations} conversations per phase, {args.concurrency} at a time...", flush=True)
            result = asyncio.run(benchmark(targets, webhook_rate=args.webhook_rate, database=database, **options))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(report.table(result))
    print(f"\nWritten: {args.out}")
    return 0 if result["targets"]["no_errors"] else 1
