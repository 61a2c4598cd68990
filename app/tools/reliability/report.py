"""One row per check and the table `make reliability` prints (and writes to reports/reliability.json).

A check passes when nothing was lost or leaked; `rejected` is only meaningful for checks that
send things that must be refused (forgeries), where it should equal `tried`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    """What one check tried and what got through. `leaked`: accepted forgeries, duplicates
    processed, disclosures; `lost`: things that should have been processed and were not;
    `errors`: answers that are neither (a 500 to a forgery, a check that could not run)."""

    check: str
    tried: int
    rejected: int = 0
    lost: int = 0
    leaked: int = 0
    detail: str = ""
    errors: int = 0

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.leaked == 0 and self.errors == 0


HEADERS = ("check", "tried", "rejected", "lost", "leaked", "result")


def _result(row: Row) -> str:
    if row.ok:
        return "ok"
    return f"FAIL ({row.errors} errors)" if row.errors else "FAIL"


def table(rows: Sequence[Row]) -> str:
    """Aligned text for the terminal, then each row's detail below it."""
    cells = [(r.check, str(r.tried), str(r.rejected), str(r.lost), str(r.leaked), _result(r)) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(HEADERS)]

    def line(values: Sequence[str]) -> str:
        first = values[0].ljust(widths[0])
        return "  ".join([first, *(v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True))])

    out = [line(HEADERS), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    details = [f"{r.check}: {r.detail}" for r in rows if r.detail]
    return "\n".join(out + (["", *details] if details else []))


def to_json(rows: Sequence[Row], config: dict[str, Any]) -> dict[str, Any]:
    return {
        "config": config,
        "ok": all(r.ok for r in rows),
        "checks": [{**asdict(r), "ok": r.ok} for r in rows],
    }
