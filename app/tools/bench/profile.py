"""Sampling profiles of the stack's processes during the full phase (`--profile`), with py-spy.

py-spy attaches to running processes from outside (no code change, a few % overhead with
--nonblocking) and samples every thread's Python stack. We record collapsed stacks ("raw"
format: `frame;frame;...;leaf count` per line) and summarise each process two ways:
  - self time: the leaf frames where the CPU actually is (JSON encoding, SQL compilation...);
  - our code: the frames of this repository by inclusive time (which of our functions the
    time is spent under), since the leaf is usually in a library.
The raw files stay in the profile directory for flame graphs (speedscope, inferno).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.stack import ROOT

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
TOP = 12


def py_spy() -> str | None:
    """The py-spy binary (the dev requirements install it into the venv)."""
    local = ROOT / ".venv" / "bin" / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@dataclass
class Profiler:
    """One py-spy per process, started for the full phase and stopped with SIGINT (it then writes)."""

    pids: dict[str, int]
    directory: Path
    rate: int = 50
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self) -> None:
        binary = py_spy()
        if binary is None:
            raise RuntimeError("--profile needs py-spy (pip install py-spy)")
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            command = [binary, "record", "--pid", str(pid), "--rate", str(self.rate), "--format", "raw"]
            # --subprocesses: the action server's Sanic runs its handlers in a child process.
            command += [
                "--nonblocking",
                "--subprocesses",
                "--full-filenames",
                "--output",
                str(self.directory / f"{name}.txt"),
            ]
            self.procs[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> dict[str, Any]:
        """Stop every recorder and summarise what each wrote."""
        summary: dict[str, Any] = {}
        for name, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                _, stderr = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, stderr = proc.communicate()
            path = self.directory / f"{name}.txt"
            if path.exists():
                summary[name] = summarise(path.read_text(encoding="utf-8", errors="replace"))
            else:
                summary[name] = {"error": stderr.decode(errors="replace")[-300:]}
        return summary


def _ours(file: str) -> bool:
    """A frame of this repository (not the venvs, not the standard library)."""
    if not file.endswith(".py"):  # <string>, <frozen runpy>, Cython frames without a file
        return False
    path = Path(file) if file.startswith("/") else ROOT / file
    if not path.is_relative_to(ROOT):
        return False
    inside = path.relative_to(ROOT).parts
    return bool(inside) and not inside[0].startswith(".venv") and path.exists()


def _label(frame: str) -> tuple[str, bool]:
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), False
    file = match["file"]
    short = file.split("site-packages/", 1)[-1] if "site-packages/" in file else file.replace(f"{ROOT}/", "")
    return f"{match['function']} ({short})", _ours(file)


def summarise(raw: str, top: int = TOP) -> dict[str, Any]:
    """Samples in total, and the top frames by self time and of our code by inclusive time."""
    leaves: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_label(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        leaves[frames[-1][0]] += count
        for label in {label for label, mine in frames if mine}:
            ours[label] += count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "self": [{"frame": f, "pct": share(n)} for f, n in leaves.most_common(top)],
        "our_code_inclusive": [{"frame": f, "pct": share(n)} for f, n in ours.most_common(top)],
    }


def lines(profile: dict[str, Any], top: int = 5) -> list[str]:
    """A few lines per process for the printed table."""
    out: list[str] = []
    for name, data in profile.items():
        if "error" in data:
            out.append(f"profile {name}: {data['error']}")
            continue
        out.append(f"profile {name} ({data['samples']} samples), where our code spends it:")
        out += [f"  {row['pct']:5.1f}%  {row['frame']}" for row in data["our_code_inclusive"][:top]]
        out.append("  hottest leaves:")
        out += [f"  {row['pct']:5.1f}%  {row['frame']}" for row in data["self"][:top]]
    return out
