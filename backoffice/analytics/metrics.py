"""One cell of the dashboard (a bucket or the whole range, for one dimension value) and the report.

Rates are rounded to 4 decimals and None when there is nothing to divide by; money is kept in
minor units per currency and shown as Decimal strings (ledger.money), never summed across currencies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backoffice.analytics.periods import UNKNOWN, Bucket, Filters
from handoff.models import Reason
from money.ledger.models import TransactionKind
from money.ledger.money import from_minor

if TYPE_CHECKING:
    from backoffice.analytics.service import ExperimentChoice

TOTAL = -1  # the bucket index of the whole range
DIMENSIONS: tuple[str, ...] = ("all", "channel", "locale", "variant")
REASONS: tuple[str, ...] = tuple(r.value for r in Reason)
# The counts and rates of a cell, in the order of the CSV columns (money columns follow).
NUMBERS: tuple[str, ...] = (
    "conversations",
    "contained",
    "containment_rate",
    "handoffs",
    "handoff_rate",
    *(f"handoffs_{r}" for r in REASONS),
    "verification_attempts",
    "verification_successes",
    "verification_success_rate",
    "verified_conversations",
    "verified_share",
    "payments",
    "refunds",
    "plans_created",
    "plans_kept",
    "plans_kept_rate",
    "promises_made",
    "promises_judged",
    "promises_kept",
    "promises_kept_rate",
    "opt_outs",
)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Cell:
    conversations: set[str] = field(default_factory=set)
    handed: set[str] = field(default_factory=set)  # conversations with a case opened in the window
    reasons: dict[str, set[str]] = field(default_factory=dict)
    verified: set[str] = field(default_factory=set)
    attempts: int = 0
    successes: int = 0
    payments: int = 0
    refunds: int = 0
    collected: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    refunded: dict[str, int] = field(default_factory=dict)
    plans_created: int = 0
    plans_kept: int = 0
    promises_made: int = 0
    promises_judged: int = 0
    promises_kept: int = 0
    opt_outs: int = 0

    @staticmethod
    def label(value: str | None) -> str:
        return value or UNKNOWN

    def add_money(self, kind: TransactionKind, currency: str, count: int, amount: int) -> None:
        totals = self.refunded if kind is TransactionKind.REFUND else self.collected
        totals[currency] = totals.get(currency, 0) + int(amount)
        if kind is TransactionKind.REFUND:
            self.refunds += count
        else:
            self.payments += count

    def metrics(self) -> dict[str, Any]:
        talked = self.conversations
        handed = len(self.handed & talked)
        verified = len(self.verified & talked)
        reasons = {r: len(self.reasons.get(r, set()) & talked) for r in REASONS}
        return {
            "conversations": len(talked),
            "contained": len(talked) - handed,
            "containment_rate": rate(len(talked) - handed, len(talked)),
            "handoffs": handed,
            "handoff_rate": rate(handed, len(talked)),
            "handoff_reasons": reasons,
            "verification_attempts": self.attempts,
            "verification_successes": self.successes,
            "verification_success_rate": rate(self.successes, self.attempts),
            "verified_conversations": verified,
            "verified_share": rate(verified, len(talked)),
            "payments": self.payments,
            "amount_collected": {c: str(from_minor(a, c)) for c, a in sorted(self.collected.items())},
            "refunds": self.refunds,
            "amount_refunded": {c: str(from_minor(a, c)) for c, a in sorted(self.refunded.items())},
            "plans_created": self.plans_created,
            "plans_kept": self.plans_kept,
            "plans_kept_rate": rate(self.plans_kept, self.plans_created),
            "promises_made": self.promises_made,
            "promises_judged": self.promises_judged,
            "promises_kept": self.promises_kept,
            "promises_kept_rate": rate(self.promises_kept, self.promises_judged),
            "opt_outs": self.opt_outs,
        }


def flat(metrics: dict[str, Any]) -> dict[str, Any]:
    """The CSV form: handoff reasons as their own columns (money is added per currency)."""
    out = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    out.update({f"handoffs_{r}": n for r, n in metrics["handoff_reasons"].items()})
    return {k: out[k] for k in NUMBERS}


@dataclass
class Report:
    filters: Filters
    buckets: list[Bucket]
    experiment: ExperimentChoice | None
    experiments: list[ExperimentChoice]
    cells: dict[tuple[int, str, str], Cell]
    values: dict[str, list[str]]  # per dimension (not "all"), every value seen

    def metrics(self, bucket: int, dimension: str = "all", value: str = "all") -> dict[str, Any]:
        return self.cells.get((bucket, dimension, value), Cell()).metrics()

    def currencies(self) -> list[str]:
        found: set[str] = set()
        for cell in self.cells.values():
            found.update(cell.collected, cell.refunded)
        return sorted(found)

    def rows(self) -> Iterator[tuple[Bucket | None, str, str, dict[str, Any]]]:
        """Every bucket (then the total, bucket None) x every dimension value, with its metrics."""
        for index, bucket in [*enumerate(self.buckets), (TOTAL, None)]:
            yield bucket, "all", "all", self.metrics(index)
            for dimension, values in self.values.items():
                for value in values:
                    yield bucket, dimension, value, self.metrics(index, dimension, value)

    def to_json(self) -> dict[str, Any]:
        f = self.filters
        return {
            "filters": {
                "from": f.start_day.isoformat(),
                "to": f.end_day.isoformat(),
                "tz": f.timezone,
                "bucket": f.bucket.value,
                "channel": f.channel,
                "locale": f.locale,
                "experiment": self.experiment.id if self.experiment else None,
                "variant": f.variant,
            },
            "experiments": [
                {"id": e.id, "name": e.name, "status": e.status, "variants": list(e.variants)} for e in self.experiments
            ],
            "currencies": self.currencies(),
            "totals": self.metrics(TOTAL),
            "series": [
                {
                    "label": b.label,
                    "from": b.first_day.isoformat(),
                    "to": b.last_day.isoformat(),
                    "start": b.start.isoformat(),
                    "end": b.end.isoformat(),
                    "metrics": self.metrics(i),
                }
                for i, b in enumerate(self.buckets)
            ],
            "breakdowns": {
                dimension: [{"value": v, "metrics": self.metrics(TOTAL, dimension, v)} for v in values]
                for dimension, values in self.values.items()
            },
        }
