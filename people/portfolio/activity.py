"""The export back: what happened since a moment, for the agency's own collection system.

One CSV row per event and debt, keyed by the creditor and the creditor's reference. Each event
comes from the feature that owns it (`activity()` of the ledger, arrangements, disputes, holds,
consent services); an event about the debtor as a whole (a promise, an opt-out, a hold on every
debt) is one row per debt of theirs (in the event's currency, when it has one). The window is
`[since, until)`: the next run starts at this run's `until`, so nothing repeats and nothing is
missed at the boundary. Text cells are formula-safe (core/spreadsheet.py); no phone number,
address or a person's own words is ever written (the services report codes and ids only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from core.activity import Happening, Window
from core.spreadsheet import safe
from money.arrangements import service as arrangements
from money.disputes import service as disputes
from money.holds import service as holds
from money.ledger import service as ledger
from money.ledger.money import from_minor
from people.consent import service as consent
from people.debtors import service as debtors

COLUMNS = ("occurred_at", "creditor", "reference", "event", "amount", "currency", "channel", "detail")
SOURCES: tuple[Callable[..., Awaitable[list[Happening]]], ...] = (
    ledger.activity, arrangements.activity, disputes.activity, holds.activity, consent.activity,
)  # fmt: skip


class BadMoment(ValueError):
    """A --since/--until (or ?since=) that is not an ISO 8601 time, or a window that ends first."""


def moment(text: str) -> datetime:
    """An ISO 8601 date or time; one without an offset is UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise BadMoment(text) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def window(since: datetime, until: datetime) -> Window:
    as_utc = [m.replace(tzinfo=UTC) if m.tzinfo is None else m.astimezone(UTC) for m in (since, until)]
    if as_utc[0] > as_utc[1]:
        raise BadMoment("since is after until")
    return Window(*as_utc)


@dataclass(frozen=True)
class Row:
    occurred_at: datetime
    creditor: str
    reference: str
    event: str
    amount: str
    currency: str
    channel: str
    detail: str
    debtor_id: int

    def cells(self) -> list[object]:
        at = self.occurred_at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        texts = (self.creditor, self.reference, self.event, self.amount, self.currency, self.channel, self.detail)
        return [at, *(safe(text) for text in texts)]


def _reaches(happening: Happening, debt: debtors.KeyedDebt) -> bool:
    if happening.debt_id is not None:
        return debt.id == happening.debt_id
    return happening.currency in (None, debt.currency)


async def rows(*, session: AsyncSession, window: Window) -> list[Row]:
    """Every event in the window, oldest first (ties in a stable order)."""
    happenings = [h for source in SOURCES for h in await source(session=session, window=window)]
    keyed = await debtors.keyed_debts(session=session, debtor_ids={h.debtor_id for h in happenings})
    found = []
    for h in happenings:
        debts = [d for d in keyed.get(h.debtor_id, []) if _reaches(h, d)]
        amount = "" if h.amount_minor is None or h.currency is None else str(from_minor(h.amount_minor, h.currency))
        found += [
            Row(
                h.at, d.creditor, d.reference, h.event, amount, h.currency or "", h.channel or "", h.detail, h.debtor_id
            )
            for d in debts
        ]
    return sorted(found, key=lambda r: (r.occurred_at, r.creditor, r.reference, r.event, r.detail, r.channel))


def write(out: TextIO, found: list[Row]) -> None:
    """UTF-8 text (the caller opens it so) with a header row; CRLF line ends as RFC 4180 says."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.cells() for row in found)


def to_csv(found: list[Row]) -> str:
    buffer = io.StringIO()
    write(buffer, found)
    return buffer.getvalue()
