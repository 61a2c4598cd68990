"""Retraining in the background of the gateway process: `rasa train` in a temporary workspace and
the held-out evaluation (tools.eval_nlu) run as asyncio subprocesses, so the event loop never
waits on them; progress, a log tail and the metrics are written to the version's row, which the
admin page polls. One job at a time is enforced by the database (versions.queue_training).

The lead wires `on_startup` (jobs a restart interrupted are marked failed) and `shutdown`
(running jobs are stopped with their processes) into the gateway's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.training import data, service, versions
from backoffice.training.models import VersionStatus
from core.config import CoreSettings
from core.database import retry_when_locked, utcnow

log = logging.getLogger(__name__)
Sessions = async_sessionmaker[AsyncSession]
HEARTBEAT_SECONDS = 5.0  # a silent subprocess still touches the row this often
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TQDM = re.compile(r"^[^:]{1,40}:\s+\d{1,3}%\|")
_tasks: dict[int, asyncio.Task[None]] = {}


class JobFailed(Exception):
    pass


class LogTail:
    """The last lines of a subprocess's output, without colour codes or tqdm redraws."""

    def __init__(self, lines: int = 60) -> None:
        self.lines: deque[str] = deque(maxlen=lines)

    def feed(self, line: str) -> None:
        line = _ANSI.sub("", line).rstrip()
        if not line.strip() or (_TQDM.match(line) and "100%" not in line):
            return
        if not self.lines or self.lines[-1] != line:
            self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines)


class TrainProgress:
    """0-100 from Rasa's own log lines: validation, then each trained component, then the save.
    Training is 10-70 of the whole job (evaluation is the rest)."""

    def __init__(self, components: int) -> None:
        self.components = max(1, components)
        self.finished = 0
        self.value = 10

    def feed(self, line: str) -> int:
        if "Started validating domain and training data" in line:
            self.value = max(self.value, 15)
        elif "Finished training component" in line or "Restored component" in line:
            self.finished = min(self.finished + 1, self.components)
            self.value = max(self.value, 20 + 50 * self.finished // self.components)
        elif "Your Rasa model is trained and saved" in line:
            self.value = 70
        return self.value


class Writer:
    """Short transactions against the version's row (retried when SQLite is busy)."""

    def __init__(self, version_id: int, sessionmaker: Sessions) -> None:
        self.version_id = version_id
        self.sessionmaker = sessionmaker

    async def set(self, **values: Any) -> None:
        async def work() -> None:
            async with self.sessionmaker() as session:
                await versions.update_version(session=session, version_id=self.version_id, **values)
                await session.commit()

        await retry_when_locked(work)

    async def fail(self, error: str, tail: LogTail) -> None:
        await self.set(
            status=VersionStatus.FAILED, running=None, phase=None, error=error[:500], log_tail=tail.text() or None,
            finished_at=utcnow(),
        )  # fmt: skip


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(data.ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: Rasa's workers go with it


async def _follow(
    proc: asyncio.subprocess.Process, *, deadline: float, logfile: Path, on_line: Any, on_idle: Any
) -> None:
    """Read a subprocess's output to the end, line by line (tqdm's \\r counts as a line end)."""
    assert proc.stdout is not None
    pending = ""
    with logfile.open("ab") as raw:
        while True:
            if time.monotonic() > deadline:
                raise JobFailed("timeout")
            try:
                chunk = await asyncio.wait_for(proc.stdout.read(8192), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                await on_idle()
                continue
            if not chunk:
                break
            raw.write(chunk)
            *lines, pending = re.split(r"[\r\n]", pending + chunk.decode("utf-8", errors="replace"))
            for line in lines:
                await on_line(line)
    if pending:
        await on_line(pending)
    await proc.wait()


async def _run(command: list[str], *, cwd: Path, deadline: float, logfile: Path, on_line: Any, on_idle: Any) -> int:
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        await _follow(proc, deadline=deadline, logfile=logfile, on_line=on_line, on_idle=on_idle)
    finally:
        _kill(proc)
    return proc.returncode or 0


async def evaluate(
    model: Path,
    *,
    settings: CoreSettings,
    heldout: Path,
    workdir: Path,
    deadline: float,
    tail: LogTail,
    writer: Writer,
) -> dict[str, Any]:
    """tools.eval_nlu --per-intent on the held-out set, through a real Rasa server on that model."""
    out = workdir / f"eval-{model.stem}.json"
    command = [
        sys.executable, "-m", "app.tools.eval_nlu", "--file", str(heldout), "--out", str(out), "--model", str(model),
        "--rasa", str(settings.rasa_bin), "--per-intent",
    ]  # fmt: skip

    async def line(text: str) -> None:
        tail.feed(text)

    async def idle() -> None:
        await writer.set()

    logfile = settings.training_models_dir / f"{model.stem}.eval.log"
    code = await _run(command, cwd=data.ROOT, deadline=deadline, logfile=logfile, on_line=line, on_idle=idle)
    if code != 0 or not out.is_file():
        raise JobFailed(f"evaluation of {model.name} failed (exit {code})")
    return json.loads(out.read_text(encoding="utf-8"))


async def train(
    version_id: int, *, sessionmaker: Sessions, settings: CoreSettings, bot_dir: Path = data.BOT_DIR,
    heldout: Path = data.HELDOUT,
) -> None:  # fmt: skip
    """The whole job: workspace, `rasa train`, evaluation of the new and (once) the active model."""
    writer, tail = Writer(version_id, sessionmaker), LogTail()
    workdir = Path(tempfile.mkdtemp(prefix="nlu-train-"))
    deadline = time.monotonic() + settings.training_timeout_seconds
    models_dir = settings.training_models_dir
    try:
        async with sessionmaker() as session:
            name = (await versions.get_version(session=session, version_id=version_id)).name
            examples, upto = await service.training_data(session=session, bot_dir=bot_dir)
            await session.rollback()
        counts = {locale: sum(map(len, by_intent.values())) for locale, by_intent in examples.items()}
        await writer.set(
            status=VersionStatus.TRAINING, phase="workspace", progress=5, started_at=utcnow(), changes_upto=upto,
            examples=counts,
        )  # fmt: skip
        workspace = await asyncio.to_thread(data.write_workspace, workdir / "workspace", examples, bot_dir)
        models_dir.mkdir(parents=True, exist_ok=True)
        progress = TrainProgress(data.config_components(workspace.config))
        shown = {"progress": 5, "at": time.monotonic()}

        async def line(text: str) -> None:
            tail.feed(text)
            value = progress.feed(text)
            if value != shown["progress"] or time.monotonic() - shown["at"] > 2:
                shown.update(progress=value, at=time.monotonic())
                await writer.set(phase="training", progress=value, log_tail=tail.text())

        async def idle() -> None:
            await writer.set(log_tail=tail.text())

        command = [
            str(settings.rasa_bin), "train", "--domain", str(workspace.domain), "--config", str(workspace.config),
            "--data", str(workspace.data), str(workspace.nlu), "--out", str(workdir / "out"), "--fixed-model-name", name,
        ]  # fmt: skip
        started = time.monotonic()
        await writer.set(phase="training", progress=10)
        code = await _run(
            command,
            cwd=workspace.root,
            deadline=deadline,
            logfile=models_dir / f"{name}.log",
            on_line=line,
            on_idle=idle,
        )
        trained = workdir / "out" / f"{name}.tar.gz"
        if code != 0 or not trained.is_file():
            raise JobFailed(f"rasa train failed (exit {code})")
        model = models_dir / f"{name}.tar.gz"
        await asyncio.to_thread(shutil.move, trained, model)
        await writer.set(
            status=VersionStatus.EVALUATING, phase="evaluating_new", progress=75, model_path=str(model.absolute()),
            train_seconds=round(time.monotonic() - started, 1), log_tail=tail.text(),
        )  # fmt: skip
        common: dict[str, Any] = {"settings": settings, "heldout": heldout, "workdir": workdir, "tail": tail}
        metrics = await evaluate(model, deadline=deadline, writer=writer, **common)
        await writer.set(metrics=metrics, phase="evaluating_current", progress=88, log_tail=tail.text())
        await _evaluate_active(sessionmaker, deadline=deadline, writer=writer, **common)
        await writer.set(status=VersionStatus.READY, running=None, phase=None, progress=100, finished_at=utcnow())
    except asyncio.CancelledError:
        await asyncio.shield(writer.fail("cancelled", tail))
        raise
    except Exception as exc:
        log.exception("training version %s failed", version_id)
        await writer.fail(str(exc) or type(exc).__name__, tail)
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)


async def _evaluate_active(sessionmaker: Sessions, **kwargs: Any) -> None:
    """The active model is evaluated once (the comparison's other side) and cached in its row.
    A failure here does not fail the new model: the page shows the current side as missing."""
    async with sessionmaker() as session:
        active = await versions.active_version(session=session)
        wanted = (active.id, active.model_path) if active and active.metrics is None and active.model_path else None
        await session.rollback()
    if wanted is None or not await asyncio.to_thread(Path(wanted[1]).is_file):
        return
    try:
        metrics = await evaluate(Path(wanted[1]), **kwargs)
    except JobFailed as exc:
        kwargs["tail"].feed(f"current model not evaluated: {exc}")
        return
    await Writer(wanted[0], sessionmaker).set(metrics=metrics)


def start(version_id: int, *, sessionmaker: Sessions, settings: CoreSettings) -> asyncio.Task[None]:
    task = asyncio.create_task(
        train(version_id, sessionmaker=sessionmaker, settings=settings), name=f"train-{version_id}"
    )
    _tasks[version_id] = task
    task.add_done_callback(lambda _: _tasks.pop(version_id, None))
    return task


async def on_startup(sessionmaker: Sessions) -> int:
    """No job survives a restart: mark the interrupted ones failed (the admin retrains)."""
    async with sessionmaker() as session:
        count = await versions.fail_interrupted(session=session)
        await session.commit()
    return count


async def shutdown() -> None:
    tasks = list(_tasks.values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
