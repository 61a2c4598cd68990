"""Numbers from raw measurements: percentiles, one summary per phase, the ratios and targets of
issue 7, a table for the terminal and the JSON written to reports/bench.json."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from app.tools.bench.processes import BARE
from app.tools.bench.profile import lines as profile_lines
from app.tools.bench.runner import PhaseResult, WebhookResult

# Issue 7, point 2 (a 2-core machine, 20 concurrent conversations).
TARGETS = {
    "throughput_ratio_min": 1.0,
    "p95_ratio_max": 1.0,
    "webhook_ack_p99_ms_max": 100.0,
    "training_seconds_max": 180.0,
    "total_rss_mb_max": 3072.0,
}
ERROR_SAMPLES = 10


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between the closest ranks (numpy's default)."""
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def latency_ms(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "p50": _ms(percentile(values, 50)),
        "p95": _ms(percentile(values, 95)),
        "p99": _ms(percentile(values, 99)),
        "mean": _ms(sum(values) / len(values)) if values else None,
        "max": _ms(max(values)) if values else None,
    }


def phase(result: PhaseResult, rss: dict[str, dict[str, float]]) -> dict[str, Any]:
    """One side of the comparison: turns answered as expected per second and their latency."""
    turns = len(result.latencies)
    return {
        "conversations": result.conversations,
        "turns": turns,
        "errors": len(result.errors),
        "error_samples": result.errors[:ERROR_SAMPLES],
        "duration_s": round(result.duration, 2),
        "throughput_turns_per_s": round(turns / result.duration, 2) if result.duration > 0 else 0.0,
        "latency_ms": latency_ms(result.latencies),
        "rss_mb": rss,
        "total_rss_mb": round(sum(p["peak_rss_mb"] for p in rss.values()), 1),
        # Where the CPU goes, per turn answered (2 cores are shared by every process).
        "cpu_ms_per_turn": {
            name: round(p.get("cpu_s", 0.0) * 1000 / turns, 1) if turns else None for name, p in rss.items()
        },
    }


def webhooks(result: WebhookResult) -> dict[str, Any]:
    kinds = {kind: {"count": len(values), **latency_ms(values)} for kind, values in result.latencies.items()}
    every = [v for values in result.latencies.values() for v in values]
    return {
        **kinds,
        "all": {"count": len(every), **latency_ms(every)},
        "inbox_write": {"count": len(result.stored), **latency_ms(result.stored)},
        "errors": len(result.errors),
        "error_samples": result.errors[:ERROR_SAMPLES],
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def build(
    *,
    full: dict[str, Any],
    bare: dict[str, Any],
    webhook: dict[str, Any] | None,
    training: dict[str, Any] | None,
    config: dict[str, Any],
) -> dict[str, Any]:
    """The report: both sides, full/bare ratios, and each target of issue 7 met or not (None: not measured)."""
    report: dict[str, Any] = {
        "config": config,
        "full": {**full, "webhooks": webhook, **_with_webhook_turns(full, webhook)},
        "bare_rasa": bare,
        "throughput_ratio": _ratio(full["throughput_turns_per_s"], bare["throughput_turns_per_s"]),
        "p95_ratio": _ratio(full["latency_ms"]["p95"], bare["latency_ms"]["p95"]),
        "training": training,
    }
    ack_p99 = webhook["all"]["p99"] if webhook else None
    seconds = training["seconds"] if training else None
    report["targets"] = {
        "throughput_ratio": _met(report["throughput_ratio"], TARGETS["throughput_ratio_min"], at_least=True),
        "p95_ratio": _met(report["p95_ratio"], TARGETS["p95_ratio_max"]),
        "webhook_ack_p99_ms": _met(ack_p99, TARGETS["webhook_ack_p99_ms_max"]),
        "training_seconds": _met(seconds, TARGETS["training_seconds_max"]),
        "total_rss_mb": _met(full["total_rss_mb"], TARGETS["total_rss_mb_max"]),
        "no_errors": full["errors"] == 0 and bare["errors"] == 0 and (not webhook or webhook["errors"] == 0),
    }
    return report


def _with_webhook_turns(full: dict[str, Any], webhook: dict[str, Any] | None) -> dict[str, Any]:
    """Each acknowledged webhook is one more message the worker then answers through Rasa: the
    Rasa turns the full stack served per second, for reading the throughput ratio."""
    if not webhook or full["duration_s"] <= 0:
        return {}
    served = full["turns"] + webhook["all"]["count"]
    return {"throughput_incl_webhook_turns_per_s": round(served / full["duration_s"], 2)}


def _met(value: float | None, limit: float, *, at_least: bool = False) -> bool | None:
    if value is None:
        return None
    return value >= limit if at_least else value <= limit


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def table(report: dict[str, Any]) -> str:
    """The comparison as aligned text for the terminal."""
    full, bare = report["full"], report["bare_rasa"]
    rows: list[tuple[str, object, object]] = [
        ("conversations", full["conversations"], bare["conversations"]),
        ("turns answered", full["turns"], bare["turns"]),
        ("errors", full["errors"], bare["errors"]),
        ("throughput (turns/s)", full["throughput_turns_per_s"], bare["throughput_turns_per_s"]),
    ]
    rows += [(f"latency {k} (ms)", full["latency_ms"][k], bare["latency_ms"][k]) for k in ("p50", "p95", "p99", "max")]
    # The baseline's own Rasa process (when it has one) sits on the same row as the stack's Rasa.
    bare_rss = {("rasa" if name == BARE else name): value for name, value in bare["rss_mb"].items()}
    for name in sorted(set(full["rss_mb"]) | set(bare_rss)):
        rows.append(
            (
                f"peak RSS {name} (MB)",
                full["rss_mb"].get(name, {}).get("peak_rss_mb"),
                bare_rss.get(name, {}).get("peak_rss_mb"),
            )
        )
    rows.append(("peak RSS total (MB)", full["total_rss_mb"], bare["total_rss_mb"]))
    bare_cpu = {("rasa" if name == BARE else name): value for name, value in bare.get("cpu_ms_per_turn", {}).items()}
    full_cpu = full.get("cpu_ms_per_turn", {})
    for name in sorted(set(full_cpu) | set(bare_cpu)):
        rows.append((f"CPU ms/turn {name}", full_cpu.get(name), bare_cpu.get(name)))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':{width}}  {'full stack':>12}  {'bare Rasa':>12}"]
    lines += [f"{label:{width}}  {_cell(a):>12}  {_cell(b):>12}" for label, a, b in rows]
    lines.append("")
    if "throughput_incl_webhook_turns_per_s" in full:
        lines.append(f"full stack incl. webhook turns: {_cell(full['throughput_incl_webhook_turns_per_s'])} turns/s")
    lines.append(f"throughput ratio (full/bare): {_cell(report['throughput_ratio'])}")
    lines.append(f"p95 ratio (full/bare):        {_cell(report['p95_ratio'])}")
    if webhook := full.get("webhooks"):
        for kind in ("twilio_sms", "telegram"):
            w = webhook[kind]
            lines.append(
                f"webhook ack {kind}: n={w['count']} p50={_cell(w['p50'])} p95={_cell(w['p95'])} "
                f"p99={_cell(w['p99'])} ms"
            )
        if (stored := webhook.get("inbox_write")) and stored["count"]:
            lines.append(
                f"  of which the inbox write: p50={_cell(stored['p50'])} p95={_cell(stored['p95'])} "
                f"p99={_cell(stored['p99'])} ms"
            )
        lines.append(f"webhook errors: {webhook['errors']}")
    training = report.get("training")
    if training:
        how = "measured" if training.get("measured") else "recorded earlier"
        lines.append(f"model training: {training['seconds']:.1f} s ({how})")
    if profile := report.get("profile"):
        lines += profile_lines({k: v for k, v in profile.items() if isinstance(v, dict)})
    met = ", ".join(f"{k}={'-' if v is None else ('ok' if v else 'MISSED')}" for k, v in report["targets"].items())
    lines.append(f"targets: {met}")
    return "\n".join(lines)
