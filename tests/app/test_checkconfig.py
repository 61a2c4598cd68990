"""`python -m app.manage check-config` (app/checkconfig.py): exit 0 and "ok" on a fit configuration
whose database, Redis and Rasa answer; exit 1 naming each problem otherwise (dead ports on
loopback: nobody listens there)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.manage import main, migrate
from core import internal_tokens
from tests.databases import fresh_postgres
from tests.stack import free_port

REDIS = "redis://127.0.0.1:6379"
UNSET = ("RASA_URL", "RASA_URLS", "RASA_INSTANCES", "RASA_LOCK_STORE_URL", "HUEY_IMMEDIATE", "DATABASE_URL")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No Rasa configured (the test runner sets RASA_URL), nothing read from a .env."""
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTH_TIMEOUT_SECONDS", "2")
    return monkeypatch


@pytest.fixture(scope="module")
def postgres() -> str:
    url = asyncio.run(fresh_postgres("debtor_assistant_checkconfig"))
    migrate(url)
    return url


def production(env: pytest.MonkeyPatch, database_url: str) -> None:
    for name, value in {
        "ASSISTANT_ENV": "production",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": "https://assistant.example.com",
        "RATE_LIMIT_STORAGE_URL": f"{REDIS}/2",
        "HUEY_REDIS_URL": f"{REDIS}/0",
        **internal_tokens.generate(),
    }.items():
        env.setenv(name, value)


def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check-config"])
    return code, capsys.readouterr().out


def test_a_fit_production_configuration_is_ok(
    environment: pytest.MonkeyPatch, postgres: str, capsys: pytest.CaptureFixture[str]
) -> None:
    production(environment, postgres)
    code, out = check(capsys)
    assert (code, out.splitlines()[-1]) == (0, "ok (ASSISTANT_ENV=production, database postgresql)"), out


def test_the_demo_on_sqlite_is_ok(
    environment: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    migrate(url)
    environment.setenv("ASSISTANT_ENV", "demo")
    environment.setenv("DATABASE_URL", url)
    code, out = check(capsys)
    assert code == 0 and out.startswith("ok (ASSISTANT_ENV=demo"), out


def test_a_dead_database(environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    production(environment, f"postgresql://assistant:secret-pw@127.0.0.1:{free_port()}/assistant")
    code, out = check(capsys)
    assert code == 1 and out.startswith("- DATABASE_URL (postgresql://assistant:***@127.0.0.1:"), out
    assert "does not answer" in out and "secret-pw" not in out and "1 problem(s)" in out


def test_a_dead_redis(environment: pytest.MonkeyPatch, postgres: str, capsys: pytest.CaptureFixture[str]) -> None:
    production(environment, postgres)
    environment.setenv("HUEY_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    code, out = check(capsys)
    assert code == 1 and out.startswith("- HUEY_REDIS_URL (redis://127.0.0.1:"), out
    assert "does not answer: ConnectionError" in out and "RATE_LIMIT_STORAGE_URL" not in out


def test_a_dead_rasa_when_configured(
    environment: pytest.MonkeyPatch, postgres: str, capsys: pytest.CaptureFixture[str]
) -> None:
    production(environment, postgres)
    dead = f"http://127.0.0.1:{free_port()}"
    environment.setenv("RASA_URL", dead)
    code, out = check(capsys)
    assert code == 1 and out.startswith(f"- Rasa at {dead} is not ready"), out


def test_an_unmigrated_database_and_the_profile_together(
    environment: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Production on an SQLite file nobody migrated: the profile's refusals, then what answers."""
    (tmp_path / "empty.db").touch()
    environment.setenv("ASSISTANT_ENV", "production")
    environment.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    code, out = check(capsys)
    problems = [line for line in out.splitlines() if line.startswith("- ")]
    assert code == 1 and problems[0].startswith("- DATABASE_URL is SQLite"), out
    assert any("NLG_TOKEN is not set" in p for p in problems)
    assert problems[-1].startswith("- DATABASE_URL: the schema is at nothing"), out


def test_a_missing_sqlite_file_is_reported_not_created(
    environment: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("ASSISTANT_ENV", "demo")
    environment.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'var' / 'missing.db'}")
    code, out = check(capsys)
    assert code == 1 and "no SQLite database at" in out and "app.manage migrate" in out, out
    assert not (tmp_path / "var").exists()
