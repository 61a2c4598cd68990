"""`python -m app.manage seed --demo` makes the demo debtors and the demo console admin (nothing else
does: plain `seed` and `migrate` add neither); `create-staff` adds accounts, the first admin too."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.manage import DEMO_ADMIN, main, migrate
from core.database import make_engine, make_sessionmaker
from people.auth import service
from people.auth.models import Role, StaffUser
from people.debtors.models import Debtor
from people.debtors.seed import DEMO


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'manage.db'}"
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONSOLE_CREDENTIALS_FILE", str(tmp_path / "var" / "console-credentials.txt"))
    return url


def authenticate(url: str, username: str, password: str) -> StaffUser | None:
    async def run() -> StaffUser | None:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await service.authenticate(
                    session=session, username=username, password=password, lockout=service.Lockout()
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_seed_creates_one_admin_and_says_so_once(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo"]) == 0
    printed = capsys.readouterr().err
    credentials = tmp_path / "var" / "console-credentials.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    lines = dict(line.split(": ", 1) for line in credentials.read_text().splitlines())
    assert lines["username"] == DEMO_ADMIN and len(lines["password"]) >= 12
    assert printed.count(lines["password"]) == 1 and "4 debtor(s) added" in printed
    admin = authenticate(database, DEMO_ADMIN, lines["password"])
    assert admin is not None and admin.role == Role.ADMIN

    assert main(["seed", "--demo"]) == 0  # idempotent: nothing new, the saved password still works
    again = capsys.readouterr().err
    assert "0 debtor(s) added" in again and "password" not in again
    assert credentials.read_text().splitlines()[-1] == f"password: {lines['password']}"


def test_migrate_seeds_nothing(database: str, tmp_path: Path) -> None:
    """The fixture only migrated (what compose's migrate service runs): no staff, no debtors."""

    async def counts() -> tuple[int, int]:
        engine = make_engine(database)
        try:
            async with make_sessionmaker(engine)() as session:
                staff = await session.scalar(select(func.count()).select_from(StaffUser))
                debtors = await session.scalar(select(func.count()).select_from(Debtor))
                return int(staff or 0), int(debtors or 0)
        finally:
            await engine.dispose()

    assert main(["migrate"]) == 0  # again, through the command line: idempotent, still nothing seeded
    assert asyncio.run(counts()) == (0, 0)
    assert not (tmp_path / "var" / "console-credentials.txt").exists()


def test_seed_without_demo_adds_no_demo_debtors_nor_admin(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed"]) == 0
    assert "debtor" not in capsys.readouterr().err
    assert not (tmp_path / "var" / "console-credentials.txt").exists()

    async def staff() -> int:
        engine = make_engine(database)
        try:
            async with make_sessionmaker(engine)() as session:
                return int(await session.scalar(select(func.count()).select_from(StaffUser)) or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(staff()) == 0

    async def debtors() -> int:
        engine = make_engine(database)
        try:
            async with make_sessionmaker(engine)() as session:
                return int(await session.scalar(select(func.count()).select_from(Debtor)) or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(debtors()) == 0
    assert main(["seed", "--demo"]) == 0 and asyncio.run(debtors()) == len(DEMO)


def test_seed_leaves_existing_staff_alone(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", "a long enough password")
    main(["create-staff", "--username", "first@example.org", "--display-name", "First"])
    main(["seed", "--demo"])
    assert not (tmp_path / "var" / "console-credentials.txt").exists()
    assert authenticate(database, DEMO_ADMIN, "anything at all") is None


def test_create_staff(database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", "a long enough password")
    args = ["create-staff", "--username", " Boss@Example.org", "--display-name", "The Boss", "--role", "admin"]
    assert main(args) == 0
    assert "boss@example.org (admin) created" in capsys.readouterr().out
    boss = authenticate(database, "boss@example.org", "a long enough password")
    assert boss is not None and boss.role == Role.ADMIN and boss.display_name == "The Boss"

    with pytest.raises(SystemExit, match="username_taken"):
        main(args)
    monkeypatch.setenv("STAFF_PASSWORD", "too short")
    with pytest.raises(SystemExit, match="weak_password"):
        main(["create-staff", "--username", "x@example.org", "--display-name", "X"])
    with pytest.raises(SystemExit):
        main(["create-staff", "--username", "y@example.org", "--display-name", "Y", "--role", "root"])


def test_create_staff_asks_for_the_password_twice(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    answers = iter(["typed password 123", "typed password 124"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    with pytest.raises(SystemExit, match="do not match"):
        main(["create-staff", "--username", "typo@example.org", "--display-name", "Typo"])
    answers = iter(["typed password 123", "typed password 123"])
    assert main(["create-staff", "--username", "typo@example.org", "--display-name", "Typo"]) == 0
    assert authenticate(database, "typo@example.org", "typed password 123") is not None
