"""The background job's lifecycle on both databases: stopped with its subprocess when the gateway
shuts down, and marked failed by the startup hook when a restart interrupted it."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from backoffice.training import jobs, versions
from backoffice.training.models import VersionStatus

FAKE = Path(__file__).resolve().parent / "fake_rasa.py"


def settings_for(folder: Path) -> GatewaySettings:
    rasa_bin = folder / "rasa"
    rasa_bin.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    rasa_bin.chmod(rasa_bin.stat().st_mode | stat.S_IEXEC)
    return GatewaySettings(
        training_models_dir=folder / "models", rasa_bin=rasa_bin, training_initial_model=folder / "no"
    )


async def queue(committed: async_sessionmaker[AsyncSession], folder: Path) -> int:
    async with committed() as session:
        version = await versions.queue_training(
            session=session, staff_id=None, initial_model=folder / "no", models_dir=folder / "models"
        )
        await session.commit()
        return version.id


async def status_of(committed: async_sessionmaker[AsyncSession], version_id: int) -> tuple[VersionStatus, str | None]:
    async with committed() as session:
        version = await versions.get_version(session=session, version_id=version_id)
        return version.status, version.error


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_shutdown_stops_the_job_and_its_process(
    committed: async_sessionmaker[AsyncSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, pidfile = tmp_path / "gate", tmp_path / "pid"
    gate.touch()
    monkeypatch.setenv("FAKE_RASA_GATE", str(gate))
    monkeypatch.setenv("FAKE_RASA_PIDFILE", str(pidfile))
    version_id = await queue(committed, tmp_path)
    jobs.start(version_id, sessionmaker=committed, settings=settings_for(tmp_path))
    deadline = time.monotonic() + 30
    while (await status_of(committed, version_id))[0] != VersionStatus.TRAINING or not pidfile.exists():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    pid = int(pidfile.read_text())
    assert alive(pid)

    await jobs.shutdown()
    assert await status_of(committed, version_id) == (VersionStatus.FAILED, "cancelled")
    for _ in range(50):
        if not alive(pid):
            break
        await asyncio.sleep(0.1)
    assert not alive(pid)
    async with committed() as session:
        assert await versions.running_version(session=session) is None


async def test_startup_marks_interrupted_jobs_failed(
    committed: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    version_id = await queue(committed, tmp_path)  # queued, and then the process "died"
    assert await jobs.on_startup(committed) == 1
    assert await status_of(committed, version_id) == (VersionStatus.FAILED, "interrupted")
    assert await queue(committed, tmp_path) != version_id  # a new training can start
