"""Each process refuses to start on an unfit production configuration (core/profile.py), with one
message naming every problem: the gateway, the inbox worker and the action server, as real
processes (what compose runs), and get_settings() in process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import get_settings
from core.profile import ProfileRefused
from tests.stack import ROOT, free_port

# An empty deployment environment: every embedded default, which is the single-machine setup.
NAMED = ("DATABASE_URL", "PUBLIC_BASE_URL", "ACTION_SERVER_TOKEN", "RASA_AUTH_TOKEN", "NLG_TOKEN", "PAYMENTS_SANDBOX")
GATEWAY_ONLY = ("RATE_LIMIT_STORAGE_URL", "HUEY_REDIS_URL")


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_get_settings_refuses_unfit_production(monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    monkeypatch.setenv("ASSISTANT_ENV", "production")
    monkeypatch.setenv("PAYMENTS_SANDBOX", "true")
    with pytest.raises(ProfileRefused) as refused:
        get_settings()
    for name in (*NAMED, *GATEWAY_ONLY, "HUEY_IMMEDIATE"):  # conftest runs the inbox in process
        assert f"  - {name}" in str(refused.value), name
    monkeypatch.setenv("ASSISTANT_ENV", "demo")
    assert get_settings().assistant_env == "demo"


def unfit_environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RASA_", "HUEY_", "ASSISTANT_"))}
    env.update(
        ASSISTANT_ENV="production",
        PAYMENTS_SANDBOX="true",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'never.db'}",
        HUEY_FILE=str(tmp_path / "huey.db"),
        WORKER_METRICS_PORT="0",
    )
    return env


@pytest.mark.parametrize(
    ("process", "argv", "names"),
    [
        ("gateway", ["-m", "uvicorn", "app.main:create_app", "--factory", "--port", "{port}"], NAMED + GATEWAY_ONLY),
        ("worker", ["-m", "huey.bin.huey_consumer", "app.worker.huey", "-w", "1"], NAMED + GATEWAY_ONLY),
        ("actions", ["-m", "bot.action_server", "--actions", "bot.actions", "-p", "{port}"], NAMED),
    ],
)
def test_each_process_refuses_to_start(tmp_path: Path, process: str, argv: list[str], names: tuple[str, ...]) -> None:
    port = str(free_port())
    done = subprocess.run(
        [sys.executable, *(a.format(port=port) for a in argv)],
        cwd=ROOT,
        env=unfit_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, (process, output[-2000:])
    assert "ASSISTANT_ENV=production: refusing to start" in output, (process, output[-2000:])
    for name in names:
        assert f"  - {name}" in output, (process, name)
    assert not (tmp_path / "never.db").exists(), process  # refused before touching anything
