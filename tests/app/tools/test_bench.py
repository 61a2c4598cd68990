"""`make bench` (tools/bench): percentile math, report building, reply checks, and a small smoke
run against the shared stack so the benchmark keeps working (not a timed test)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.tools.bench import cli, conversations, processes, profile, report, rss
from app.tools.bench.conversations import Checker, Turn
from app.tools.bench.runner import PhaseResult, WebhookResult
from tests.conftest import SMS_NUMBER, TELEGRAM_SECRET
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.stack import ROOT, Stack


def test_percentiles_interpolate_between_ranks() -> None:
    assert report.percentile([], 50) is None
    assert report.percentile([7.0], 99) == 7.0
    assert report.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5  # unsorted input
    assert report.percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert report.percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert report.percentile([1.0, 2.0], 0) == 1.0 and report.percentile([1.0, 2.0], 100) == 2.0
    with pytest.raises(ValueError):
        report.percentile([1.0], 101)


def test_latency_summary_in_milliseconds() -> None:
    summary = report.latency_ms([0.1, 0.2, 0.3])
    assert summary == {"p50": 200.0, "p95": 290.0, "p99": 298.0, "mean": 200.0, "max": 300.0}
    assert report.latency_ms([]) == {"p50": None, "p95": None, "p99": None, "mean": None, "max": None}


def _phase(name: str, latencies: list[float], duration: float, errors: list[str] | None = None) -> dict:
    result = PhaseResult(name=name, conversations=2, latencies=latencies, errors=errors or [], duration=duration)
    rss_mb = {
        "rasa": {"peak_rss_mb": 600.0, "hwm_mb": 610.0, "cpu_s": 2.0},
        "gateway": {"peak_rss_mb": 300.0, "hwm_mb": 305.0, "cpu_s": 0.5},
    }
    return report.phase(result, rss_mb)


def test_report_has_both_sides_ratios_and_targets() -> None:
    full = _phase("full", [0.1] * 19 + [0.5], duration=2.0)  # 10 turns/s
    bare = _phase("bare_rasa", [0.1] * 20, duration=4.0)  # 5 turns/s
    webhook = report.webhooks(WebhookResult(latencies={"twilio_sms": [0.01, 0.02], "telegram": [0.2]}))
    built = report.build(full=full, bare=bare, webhook=webhook, training={"seconds": 30.0}, config={"x": 1})

    assert built["full"]["throughput_turns_per_s"] == 10.0 and built["bare_rasa"]["throughput_turns_per_s"] == 5.0
    assert built["throughput_ratio"] == 2.0
    assert built["p95_ratio"] == pytest.approx(full["latency_ms"]["p95"] / 100.0, abs=1e-3)
    assert built["full"]["total_rss_mb"] == 900.0
    assert built["full"]["cpu_ms_per_turn"] == {"rasa": 100.0, "gateway": 25.0}  # 20 turns
    assert built["full"]["webhooks"]["all"]["count"] == 3
    assert built["targets"] == {
        "throughput_ratio": True,
        "p95_ratio": False,  # the one slow turn
        "webhook_ack_p99_ms": False,  # 200 ms on Telegram
        "training_seconds": True,
        "total_rss_mb": True,
        "no_errors": True,
    }
    assert json.loads(json.dumps(built)) == built
    text = report.table(built)
    assert "throughput ratio (full/bare): 2.0" in text and "peak RSS rasa (MB)" in text


def test_errors_and_missing_measurements_are_reported_not_hidden() -> None:
    full = _phase("full", [], duration=1.0, errors=[f"e{i}" for i in range(15)])
    bare = _phase("bare_rasa", [0.1], duration=1.0)
    built = report.build(full=full, bare=bare, webhook=None, training=None, config={})
    assert built["full"]["errors"] == 15 and len(built["full"]["error_samples"]) == report.ERROR_SAMPLES
    assert built["throughput_ratio"] == 0.0 and built["p95_ratio"] is None
    assert built["targets"]["no_errors"] is False
    assert built["targets"]["training_seconds"] is None and built["targets"]["webhook_ack_p99_ms"] is None
    assert "targets:" in report.table(built)


def test_scripts_cover_every_locale_and_the_whole_flow() -> None:
    assert {s.locale for s in conversations.SCRIPTS} == {"en", "sv", "de", "pt-BR"}
    assert {s.locale for s in conversations.plan(4)} == {"en", "sv", "de", "pt-BR"}
    assert len(conversations.plan(10)) == 10
    for script in conversations.SCRIPTS:
        markers = [m for t in script.turns for m in t.expect]
        assert "/check_balance" in markers and "/affirm" in markers  # greeted, and a plan was offered


def test_checker_spots_failure_replies_and_missing_markers() -> None:
    checker = Checker()
    turn = Turn("21/07/1992", expect=("£612.45",))
    assert checker.problem(turn, "en", [{"text": "Total:\xa0£612.45"}]) is None
    assert checker.problem(turn, "en", []) == "no reply"
    assert "missing" in (checker.problem(turn, "en", [{"text": "Total: £0.00"}]) or "")
    unavailable = checker.catalog.text("utter_unavailable", "de")
    assert "failure reply" in (checker.problem(Turn("hallo"), "de", [{"text": unavailable}]) or "")
    button = Turn("6 payments", expect=(conversations.WEEKLY_BUTTON,))
    reply = [{"text": "?", "buttons": [{"title": "Every week", "payload": conversations.WEEKLY_BUTTON}]}]
    assert checker.problem(button, "en", reply) is None


def test_rss_of_a_process_tree_from_proc() -> None:
    me = os.getpid()
    assert me in rss.tree(me)
    assert (rss.status_kb(me, "VmRSS") or 0) > 0
    assert rss.status_kb(2**22 + 7, "VmRSS") is None  # no such process
    sampler = rss.RssSampler({"me": me})
    sampler.reset_peaks()
    sampler.sample()
    sum(i * i for i in range(300_000))  # some CPU time to count
    result = sampler.result_mb()["me"]
    assert result["peak_rss_mb"] > 0 and result["hwm_mb"] > 0 and result["cpu_s"] >= 0
    assert rss.cpu_seconds(me) > 0 and rss.cpu_seconds(2**22 + 7) == 0.0


def test_each_side_watches_its_own_processes(tmp_path: Path) -> None:
    pids = {"rasa": 1, "actions": 2, "gateway": 3, "worker": 4}
    shared = processes.Targets(gateway_url="g", rasa_url="r", pids=pids)
    assert shared.baseline_url == "r"
    assert shared.phase_pids("full") == pids and shared.phase_pids("bare_rasa") == {
        "rasa": 1,
        "actions": 2,
        "gateway": 3,
    }
    separate = processes.Targets(gateway_url="g", rasa_url="r", bare_rasa_url="b", pids={**pids, processes.BARE: 5})
    assert separate.baseline_url == "b" and separate.phase_pids("full") == pids
    assert separate.phase_pids("bare_rasa") == {"actions": 2, "gateway": 3, processes.BARE: 5}

    stack = processes.BenchStack(
        workdir=tmp_path, database_url="sqlite+aiosqlite://", ports={"rasa": 5005, "bare_rasa": 6006}
    )
    stack.ports.update(actions=5055, gateway=8000)
    bare, rasa = stack.command(processes.BARE), stack.command("rasa")
    assert bare[bare.index("-p") + 1] == "6006" and bare[bare.index("--credentials") + 1].endswith(
        "bare-credentials.yml"
    )
    assert bare[bare.index("--model") + 1] == rasa[rasa.index("--model") + 1]  # the very same model


def test_skip_training_reuses_the_recorded_time(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = cli._parser().parse_args(["--skip-training", "--out", str(out)])
    assert cli._training(args) is None
    out.write_text(json.dumps({"training": {"seconds": 42.5, "measured": True, "at": "2026-01-01T00:00:00+00:00"}}))
    assert cli._training(args) == {"seconds": 42.5, "measured": False, "at": "2026-01-01T00:00:00+00:00"}


def test_bad_arguments_are_refused() -> None:
    assert cli.main(["--concurrency", "0", "--skip-training"]) == 2
    assert cli.main(["--gateway-url", "http://127.0.0.1:1", "--skip-training"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["--pid", "rasa", "--skip-training"])  # argparse: expected NAME=PID


@pytest.mark.e2e
def test_smoke_run_against_the_stack(stack: Stack, fakes: tuple[FakeTwilio, FakeTelegram], tmp_path: Path) -> None:
    """Four conversations (one per locale), two at a time, through bare Rasa and the full stack,
    with webhooks on the side: the same code path as `make bench`, on the running stack."""
    twilio, _ = fakes
    out = tmp_path / "bench.json"
    argv = [
        "--gateway-url", stack.gateway_url, "--rasa-url", f"http://127.0.0.1:{stack.ports['rasa']}",
        "--twilio-auth-token", twilio.auth_token, "--telegram-secret", TELEGRAM_SECRET,
        "--rasa-token", stack.tokens["RASA_AUTH_TOKEN"],
        "--conversations", "4", "--concurrency", "2", "--warmup", "0", "--webhook-rate", "4",
        "--skip-training", "--out", str(out), "--profile", str(tmp_path / "profile"),
        *(f"--pid={name}={proc.pid}" for name, proc in stack.procs.items()),
    ]  # fmt: skip
    assert processes.SMS_NUMBER == SMS_NUMBER  # the number the stack's SMS webhooks are addressed to
    assert cli.main(argv) == 0
    built = json.loads(out.read_text())
    assert {"full", "bare_rasa", "throughput_ratio", "p95_ratio"} <= set(built)
    for side in ("full", "bare_rasa"):
        assert built[side]["errors"] == 0, built[side]["error_samples"]
        assert built[side]["turns"] == sum(len(s.turns) for s in conversations.plan(4))
        assert built[side]["throughput_turns_per_s"] > 0 and built[side]["latency_ms"]["p95"] > 0
        assert all(p["peak_rss_mb"] > 0 for p in built[side]["rss_mb"].values())
        assert built[side]["cpu_ms_per_turn"]["rasa"] > 0
    assert set(built["full"]["rss_mb"]) == {"rasa", "actions", "gateway", "worker"}
    assert set(built["bare_rasa"]["rss_mb"]) == {"rasa", "actions", "gateway"}  # no gateway in front, no worker
    assert built["config"]["bare_rasa_process"] == "the stack's Rasa (REST channel)"
    assert built["throughput_ratio"] > 0 and built["p95_ratio"] > 0
    webhooks = built["full"]["webhooks"]
    assert webhooks["errors"] == 0 and webhooks["twilio_sms"]["count"] > 0 and webhooks["telegram"]["count"] > 0
    assert built["config"]["locales"] == ["de", "en", "pt-BR", "sv"]
    assert built["profile"]["gateway"]["samples"] > 0, built["profile"]  # py-spy attached to the full phase
    assert (tmp_path / "profile" / "gateway.txt").exists()


def test_profile_summary_ranks_leaves_and_our_own_frames() -> None:
    """py-spy's collapsed stacks become: the hottest leaves, and which of our functions the time is under."""
    ours = f"answer ({ROOT}/engine/conversations/pipeline.py:300)"
    raw = "\n".join(
        [
            f"run (/usr/lib/python3.11/asyncio/runners.py:1);{ours};dumps (/x/site-packages/json/encoder.py:5) 30",
            f"run (/usr/lib/python3.11/asyncio/runners.py:1);{ours};execute (/x/site-packages/sqlalchemy/a.py:9) 10",
            "run (/usr/lib/python3.11/asyncio/runners.py:1);select (/usr/lib/python3.11/selectors.py:4) 60",
            "garbage line",
        ]
    )
    summary = profile.summarise(raw)
    assert summary["samples"] == 100
    assert summary["self"][0] == {"frame": "select (/usr/lib/python3.11/selectors.py)", "pct": 60.0}
    assert summary["our_code_inclusive"] == [{"frame": "answer (engine/conversations/pipeline.py)", "pct": 40.0}]
    assert any("40.0%" in line for line in profile.lines({"gateway": summary}))
