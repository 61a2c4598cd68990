"""`python -m app.manage outreach-plan --at …` (what `make outreach-plan AT=…` runs) writes one
decision per open debt to reports/outreach-plan.json and sends nothing (SQLite and PostgreSQL,
on the committed demo data: four overdue debtors in four jurisdictions)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.manage import main
from money.outreach.models import OutreachCase, OutreachContact
from people.debtors.models import Debt, DebtStatus

GERMAN, BRAZILIAN = "VN-2026-11873", "LC-30512"
AT = "2026-12-08T10:00:00Z"  # a Tuesday: 10:00 in London, 11:00 in Stockholm and Berlin, 07:00 in São Paulo


async def test_the_report_lists_every_open_debt_and_changes_nothing(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    out = tmp_path / "reports" / "outreach-plan.json"
    assert await _run(["outreach-plan", "--at", AT, "--out", str(out)]) == 0

    rows = json.loads(out.read_text("utf-8"))
    async with AsyncSession(engine) as session:
        open_refs = set(
            (
                await session.scalars(
                    select(Debt.reference).where(Debt.status.in_((DebtStatus.OPEN, DebtStatus.DISPUTED)))
                )
            ).all()
        )
        assert await session.scalar(select(func.count()).select_from(OutreachCase)) == 0
        assert await session.scalar(select(func.count()).select_from(OutreachContact)) == 0
    assert {row["reference"] for row in rows} == open_refs and len(rows) == len(open_refs)
    assert all(set(row) == {"reference", "action", "channel", "at", "reason"} for row in rows)
    by_ref = {row["reference"]: row for row in rows}
    # The debts' own (creditor's) references; the shipped cadences and contact hours.
    assert by_ref["NW-88214"] == {
        "reference": "NW-88214", "action": "send", "channel": "sms", "at": "2026-12-08T10:00:00+00:00",
        "reason": "step:0",
    }  # fmt: skip
    assert (by_ref["EK-552310"]["action"], by_ref["EK-552310"]["channel"]) == ("send", "sms")
    assert (by_ref[GERMAN]["action"], by_ref[GERMAN]["reason"]) == ("skip", "no_sms_consent")  # UWG: consent first
    assert (by_ref[BRAZILIAN]["action"], by_ref[BRAZILIAN]["reason"]) == ("skip", "no_address")  # no number
    summary = json.loads(capsys.readouterr().out)
    assert summary["debts"] == len(rows) and summary["out"] == str(out)


async def _run(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)
