"""Peak resident memory (and CPU time) of each process under test, read from /proc (no psutil).

Two numbers per process (with its children, e.g. a multiprocessing helper): the highest sum of
VmRSS seen by sampling, and the kernel's own high-water mark VmHWM summed over the tree. The
high-water mark is reset at the start of a phase (`clear_refs` 5, Linux ≥ 4.0, our own
processes) so each phase reports its own peak; where that is not allowed, VmHWM is the peak
since the process started. CPU time (user + system, children included) is counted from the
reset, so each phase can say how many CPU milliseconds a turn costs in each process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


def status_kb(pid: int, field: str) -> int | None:
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM), None when the process is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system time of a process and its waited-for children (0 when it is gone)."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After "(comm)": state is field 3 of stat(5); utime, stime, cutime, cstime are fields 14-17.
    return sum(int(value) for value in fields[11:15]) / TICKS


def _parents() -> dict[int, int]:
    found: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
        found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def tree(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """The process and all its descendants."""
    parents = _parents() if parents is None else parents
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


class RssSampler:
    """Samples the trees of `pids` (name -> pid) every `interval` seconds until stopped."""

    def __init__(self, pids: dict[str, int], *, interval: float = 0.25) -> None:
        self.pids, self.interval = pids, interval
        self.peak_kb: dict[str, int] = dict.fromkeys(pids, 0)
        self.cpu_start: dict[str, float] = self.cpu()

    def cpu(self) -> dict[str, float]:
        parents = _parents()
        return {name: sum(cpu_seconds(member) for member in tree(pid, parents)) for name, pid in self.pids.items()}

    def reset_peaks(self) -> None:
        parents = _parents()
        for pid in self.pids.values():
            for member in tree(pid, parents):
                with contextlib.suppress(OSError):
                    (PROC / str(member) / "clear_refs").write_text("5")
        self.peak_kb = dict.fromkeys(self.pids, 0)
        self.cpu_start = self.cpu()

    def sample(self) -> None:
        parents = _parents()
        for name, pid in self.pids.items():
            total = sum(status_kb(member, "VmRSS") or 0 for member in tree(pid, parents))
            self.peak_kb[name] = max(self.peak_kb[name], total)

    def high_water_kb(self) -> dict[str, int]:
        parents = _parents()
        return {
            name: sum(status_kb(member, "VmHWM") or 0 for member in tree(pid, parents))
            for name, pid in self.pids.items()
        }

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.sample)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
        self.sample()

    def result_mb(self) -> dict[str, dict[str, float]]:
        """Per process: `peak_rss_mb` (sampled), `hwm_mb` (kernel high-water mark) and `cpu_s`
        (CPU seconds since the reset)."""
        high, cpu = self.high_water_kb(), self.cpu()
        return {
            name: {
                "peak_rss_mb": round(self.peak_kb[name] / 1024, 1),
                "hwm_mb": round(high[name] / 1024, 1),
                "cpu_s": round(max(0.0, cpu[name] - self.cpu_start.get(name, 0.0)), 2),
            }
            for name in self.pids
        }
