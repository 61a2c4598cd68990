"""Dashboard metrics: what the assistant achieved, per period, channel, locale and experiment variant.

Definitions (the dashboard page shows the same). "In the window" means inside the bucket for a
time series point and inside the whole range for totals and breakdowns, in the chosen time zone.

- conversations: conversations with at least one inbound message in the window.
- contained: of those, the ones without a handoff case (handoff.models.Handoff) opened in the window;
  containment rate = contained / conversations.
- handoffs: of those conversations, the ones with a case opened in the window; handoff rate =
  handoffs / conversations. By reason: conversations per case reason (the case's most urgent
  reason; a conversation with two cases of different reasons counts under both).
- verification success rate = successful / all verification attempts made in the window;
  verified share = conversations (as above) with a successful attempt in the window / conversations.
- payments via chat: money the ledger received in the window (PAYMENT transactions, cash account)
  for payments started from a conversation (payments.conversation_id set): their number and the
  amount collected per currency, as Decimal strings (never summed across currencies). Refunds of
  such payments booked in the window are shown separately (amount refunded).
- plans created: payment plans agreed in the window; plans kept: of those, the ones completed or
  active without a missed installment (at risk or cancelled ones are not kept).
- promises: made in the window; judged in the window (kept or broken, decided by
  arrangements.evaluation); promises kept rate = kept / judged.
- opt-outs: channel addresses whose consent changed to opted out in the window and still is
  (consents keep the current state and when it last changed: an address that opted out and back
  in within the range is not counted).

Dimensions: the channel and locale of the conversation (of the consent's channel address for
opt-outs; "unknown" for a plan or promise without a conversation), and the variant of one
experiment (the latest started unless chosen): the variant assigned to the conversation's debtor
(the payer, planner or promiser for money, plans and promises), "unassigned" for everybody else.

Facts come from backoffice/analytics/queries.py; they are combined here in Python into cells
(bucket or total) x (dimension, value), with sets of conversation ids where distinct counts are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.analytics import queries
from backoffice.analytics.metrics import DIMENSIONS, TOTAL, Cell, Report
from backoffice.analytics.periods import UNASSIGNED, FilterError, Filters
from engine.experiments.models import Experiment, ExperimentAssignment
from engine.experiments.models import Status as ExperimentStatus
from money.ledger.models import TransactionKind
from money.outreach import service as outreach_service


@dataclass(frozen=True)
class ExperimentChoice:
    id: int
    name: str
    status: str
    variants: tuple[str, ...]


async def experiments(*, session: AsyncSession) -> list[ExperimentChoice]:
    """Experiments that have started (only they have assignments), latest first."""
    rows = (
        await session.scalars(
            select(Experiment)
            .where(Experiment.status != ExperimentStatus.DRAFT, Experiment.started_at.is_not(None))
            .order_by(Experiment.started_at.desc(), Experiment.id.desc())
        )
    ).all()
    return [
        ExperimentChoice(e.id, e.name, str(e.status), tuple(str(v.get("key")) for v in e.variants or [])) for e in rows
    ]


async def _variants(
    session: AsyncSession, filters: Filters, choices: list[ExperimentChoice]
) -> tuple[ExperimentChoice | None, dict[int, str]]:
    if filters.experiment_id is not None:
        chosen = next((c for c in choices if c.id == filters.experiment_id), None)
        if chosen is None:
            raise FilterError("unknown_experiment")
    else:
        chosen = choices[0] if choices else None
    if filters.variant is not None and (chosen is None or filters.variant not in (*chosen.variants, UNASSIGNED)):
        raise FilterError("unknown_variant")
    if chosen is None:
        return None, {}
    rows = await session.execute(
        select(ExperimentAssignment.debtor_id, ExperimentAssignment.variant).where(
            ExperimentAssignment.experiment_id == chosen.id
        )
    )
    return chosen, {debtor_id: variant for debtor_id, variant in rows}


class _Cells:
    """Routes each fact to its cells: its bucket and the total, each for every dimension."""

    def __init__(self, filters: Filters, variants: dict[int, str] | None) -> None:
        self.filters = filters
        self.variants = variants  # None: no experiment, no variant dimension
        self.cells: dict[tuple[int, str, str], Cell] = {}
        self.values: dict[str, set[str]] = {d: set() for d in DIMENSIONS}
        # (bucket, channel, locale, variant) -> its cells: facts share few combinations.
        self.routes: dict[tuple[int, str | None, str | None, str], list[Cell]] = {}

    def of(self, row: Any) -> list[Cell]:
        variant = UNASSIGNED
        if self.variants is not None and row.debtor_id is not None:
            variant = self.variants.get(row.debtor_id, UNASSIGNED)
        if self.filters.variant is not None and variant != self.filters.variant:
            return []
        route = (row.bucket, row.channel, row.locale, variant)
        found = self.routes.get(route)
        if found is None:
            found = self.routes[route] = self._cells(row.bucket, row.channel, row.locale, variant)
        return found

    def _cells(self, bucket: int, channel: str | None, locale: str | None, variant: str) -> list[Cell]:
        labels = {"all": "all", "channel": Cell.label(channel), "locale": Cell.label(locale)}
        if self.variants is not None:
            labels["variant"] = variant
        found = []
        for dimension, value in labels.items():
            self.values[dimension].add(value)
            for index in (bucket, TOTAL):
                key = (index, dimension, value)
                if key not in self.cells:
                    self.cells[key] = Cell()
                found.append(self.cells[key])
        return found


async def report(*, session: AsyncSession, filters: Filters) -> Report:
    """Every metric for the filters: totals, the time series, breakdowns (FilterError on a bad choice)."""
    buckets = filters.buckets()
    choices = await experiments(session=session)
    chosen, assignments = await _variants(session, filters, choices)
    cells = _Cells(filters, assignments if chosen is not None else None)
    args: dict[str, Any] = {"session": session, "filters": filters, "buckets": buckets}

    for row in await queries.conversations(**args):
        for cell in cells.of(row):
            cell.conversations.add(row.conversation_id)
    for row in await queries.handoffs(**args):
        for cell in cells.of(row):
            cell.handed.add(row.conversation_id)
            cell.reasons.setdefault(str(row.reason), set()).add(row.conversation_id)
    for row in await queries.verifications(**args):
        for cell in cells.of(row):
            cell.attempts += row.n
            cell.successes += row.successes
            if row.successes:
                cell.verified.add(row.conversation_id)
    for kind in (TransactionKind.PAYMENT, TransactionKind.REFUND):
        for row in await queries.money(**args, kind=kind):
            for cell in cells.of(row):
                cell.add_money(kind, row.currency, row.n, row.amount)
    for row in await queries.plans(**args):
        for cell in cells.of(row):
            cell.plans_created += row.n
            cell.plans_kept += row.kept
    for judged in (False, True):
        for row in await queries.promises(**args, judged=judged):
            for cell in cells.of(row):
                if judged:
                    cell.promises_judged += row.n
                    cell.promises_kept += row.kept
                else:
                    cell.promises_made += row.n
    for row in await queries.opt_outs(**args):
        for cell in cells.of(row):
            cell.opt_outs += row.n

    return Report(
        filters=filters,
        buckets=buckets,
        experiment=chosen,
        experiments=choices,
        cells=cells.cells,
        values={d: sorted(v) for d, v in cells.values.items() if d != "all"},
    )


async def outreach(*, session: AsyncSession, filters: Filters) -> dict[str, Any]:
    """The first-contact funnel (money/outreach) for debts first contacted in the filters' days."""
    zone = filters.zone
    since = datetime.combine(filters.start_day, time.min, tzinfo=zone).astimezone(UTC)
    until = datetime.combine(filters.end_day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    found = await outreach_service.funnel(session=session, since=since, until=until)
    return {"from": filters.start_day.isoformat(), "to": filters.end_day.isoformat(), "tz": filters.timezone, **found}
