"""What happened to a debt or a debtor, as each feature reports it for the export back to the
agency (people/portfolio/activity.py): one shape, so the features need not know the export.

A feature reads its own tables for a time window `[since, until)` (inclusive, exclusive): an event
belongs to exactly one window, so runs that start where the last one stopped repeat nothing and
miss nothing. `debt_id` None means every debt of `debtor_id` (in `currency`, when one is given)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import InstrumentedAttribute


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.since <= moment < self.until

    def where(self, column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        """The same test in SQL: since <= column < until."""
        return and_(column >= self.since, column < self.until)


@dataclass(frozen=True)
class Happening:
    at: datetime  # UTC
    event: str  # e.g. "payment", "promise_kept", "opt_out"
    debtor_id: int
    debt_id: int | None = None
    amount_minor: int | None = None
    currency: str | None = None
    channel: str | None = None
    detail: str = ""  # codes and ids only: never a person's words, name or address
