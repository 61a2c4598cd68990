"""`make reliability` (tools/reliability): the table, the JSON, and how checks are run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.tools.reliability import __main__ as cli
from app.tools.reliability.report import Row, table, to_json


def test_a_row_is_ok_only_when_nothing_was_lost_leaked_or_crashed() -> None:
    assert Row("x", 10, rejected=10).ok
    assert not Row("x", 10, lost=1).ok
    assert not Row("x", 10, leaked=1).ok
    assert not Row("x", 10, errors=1).ok


def test_table_aligns_columns_and_lists_details() -> None:
    text = table([Row("webhook forgery", 213, 213, detail="all refused"), Row("replay storm", 1000, 0, 2, 1)])
    lines = text.splitlines()
    assert lines[0].split() == ["check", "tried", "rejected", "lost", "leaked", "result"]
    assert lines[2].split()[-4:] == ["213", "0", "0", "ok"]
    assert lines[3].endswith("FAIL") and "1000" in lines[3]
    assert len({len(line) for line in lines[:4]}) == 1  # aligned
    assert lines[-1] == "webhook forgery: all refused"


def test_json_report() -> None:
    report = to_json([Row("a", 1), Row("b", 2, lost=1, errors=3)], {"scale": 1.0})
    assert report["ok"] is False
    assert report["config"] == {"scale": 1.0}
    assert report["checks"][1] == {
        "check": "b", "tried": 2, "rejected": 0, "lost": 1, "leaked": 0, "detail": "", "errors": 3, "ok": False,
    }  # fmt: skip


def test_main_runs_sync_and_async_checks_skips_the_stack_and_reports_crashes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    def sync_check(*, scale: float = 1.0) -> Row:
        seen["scale"] = scale
        return asyncio.run(made("sync", 5, 5))  # a sync check may run its own loop (crash.run)

    async def made(name: str, tried: int, rejected: int) -> Row:
        return Row(name, tried, rejected)

    async def async_check(*, scale: float = 1.0, seed: int = 0) -> Row:
        seen["seed"] = seed
        return Row("async", 7)

    def broken() -> Row:
        raise RuntimeError("boom")

    monkeypatch.setattr(
        cli,
        "CHECKS",
        [cli.Check("sync", sync_check), cli.Check("async", async_check), cli.Check("broken", broken),
         cli.Check("stack", sync_check, stack=True)],
    )  # fmt: skip
    out = tmp_path / "reports" / "reliability.json"
    status = cli.main(["--scale", "0.5", "--seed", "4", "--no-stack", "--out", str(out)])
    assert status == 1  # "broken" could not run
    assert seen == {"scale": 0.5, "seed": 4}
    report = json.loads(out.read_text())
    assert [c["check"] for c in report["checks"]] == ["sync", "async", "broken", "stack"]
    assert [(c["tried"], c["ok"]) for c in report["checks"][:2]] == [(5, True), (7, True)]
    assert report["checks"][2]["detail"] == "could not run: RuntimeError: boom"
    assert report["checks"][3]["detail"] == "skipped (--no-stack)"
    assert "could not run" in capsys.readouterr().out
    assert cli.main(["--only", "sync", "--only", "async"]) == 0
