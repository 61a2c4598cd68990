"""`python -m app.manage export-activity`: the file written and exit 0 with the `until` used as
JSON (the next run's --since, which then repeats nothing); CSV on stdout with the summary on
stderr; a bad --since is exit 2 with a clear message."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from app.manage import main, migrate
from core.database import make_engine, make_sessionmaker
from people.consent import service as consent
from tests.people.portfolio.activity_data import add_person


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('export') / 'export.db'}"
    migrate(url)
    return url


def opt_out(url: str, creditor: str) -> None:
    async def write() -> None:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                debtor_id, _ = await add_person(session, creditor, ("CLI-1",))
                await consent.set_opted_out(
                    session=session, channel="whatsapp", address=f"+4670174{debtor_id:04d}", opted_out=True,
                    source="intent:opt_out", debtor_id=debtor_id,
                )  # fmt: skip
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(write())


def test_writes_the_file_and_the_next_run_starts_at_its_until(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database)
    opt_out(database, "CLI Creditor")
    out = tmp_path / "reports" / "activity.csv"
    assert main(["export-activity", "--since", "2020-01-01T00:00:00Z", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 1 and summary["out"] == str(out)
    lines = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert lines[0][:4] == ["occurred_at", "creditor", "reference", "event"]
    assert lines[1][1:4] == ["CLI Creditor", "CLI-1", "opt_out"] and lines[1][6] == "whatsapp"
    assert main(["export-activity", "--since", summary["until"]]) == 0  # to stdout, nothing new
    printed = capsys.readouterr()
    assert printed.out.splitlines() == [",".join(lines[0])]
    assert json.loads(printed.err)["since"] == summary["until"]


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", ""])
def test_bad_since_is_exit_2(
    database: str, since: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database)
    with pytest.raises(SystemExit) as exited:
        main(["export-activity", "--since", since])
    assert exited.value.code == 2
    assert "--since: not an ISO 8601 time" in capsys.readouterr().err


def test_since_after_until_is_exit_2(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database)
    with pytest.raises(SystemExit) as exited:
        main(["export-activity", "--since", "2026-05-02", "--until", "2026-05-01"])
    assert exited.value.code == 2
