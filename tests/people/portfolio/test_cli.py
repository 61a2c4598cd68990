"""`python -m app.manage import-portfolio PATH`: exit 0 when every row was applied, 2 when some
were refused (each printed as file:line: column: reason), 1 when the file cannot be read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from app.manage import main, migrate
from core.database import make_engine, make_sessionmaker
from people.debtors.models import Debt
from tests.people.portfolio.portfolio import as_csv, creditor, row


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    migrate(url)
    return url


def references(url: str, of: str) -> set[str]:
    async def read() -> set[str]:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                return set((await session.scalars(select(Debt.reference).where(Debt.creditor == of))).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def run(url: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    return main(["import-portfolio", str(path)])


def test_exit_0_every_row_applied(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    c = creditor()
    path = tmp_path / "ok.csv"
    path.write_bytes(
        as_csv([row(c, "CL-0001"), row(c, "CL-0002")], ["colour", *as_csv([]).decode().strip().split(",")])
    )
    assert run(database, path, monkeypatch) == 0
    out, err = capsys.readouterr()
    assert '"debts_created": 2' in out and "column 'colour' is not part of the format" in err
    assert references(database, c) == {"CL-0001", "CL-0002"}


def test_exit_2_some_rows_refused(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    c = creditor()
    path = tmp_path / "some.csv"
    path.write_bytes(as_csv([row(c, "CL-0003"), row(c, "CL-0004", phone="12", language="fr")]))
    assert run(database, path, monkeypatch) == 2
    err = capsys.readouterr().err
    assert "some.csv:3: language: unsupported_language" in err and "some.csv:3: phone: invalid_phone" in err
    assert references(database, c) == {"CL-0003"}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("latin1.csv", "creditor,reference\nCaf\xe9,AB-1234\n".encode("latin-1")),
        ("columns.csv", b"creditor,reference\nC,AB-1234\n"),
        ("empty.csv", b""),
        ("missing.csv", None),
    ],
)
def test_exit_1_unreadable_file_applies_nothing(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes | None
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert run(database, path, monkeypatch) == 1
