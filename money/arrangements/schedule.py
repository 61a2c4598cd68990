"""Installment schedules and the plan policy decision, as pure functions (no database, no clock).

Money is in minor units throughout. The model, chosen so that "I can pay £50 a month" means
exactly £50 each month:

* every installment is the agreed amount, except the last, which takes the remainder;
* simple interest is charged per period on the principal still outstanding (declining
  balance) and is part of the installment, so less of an early installment reduces the debt;
* the one-off setup fee is added on top of the first installment.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from money.arrangements.models import Frequency

PERIODS_PER_YEAR = {Frequency.WEEKLY: 52, Frequency.MONTHLY: 12}
# A token payment is not expected to clear the debt within the policy's normal term, so
# max_months does not bind it; this only keeps a schedule finite (ten years of installments).
TOKEN_PLAN_MONTHS = 120


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    COUNTERED = "countered"
    REFUSED = "refused"


class Reason(StrEnum):
    """Why a proposal was changed or refused; each has a text `utter_plan_reason_<value>`."""

    BALANCE_BELOW_MINIMUM = "balance_below_minimum"
    AMOUNT_BELOW_MINIMUM = "amount_below_minimum"
    TOO_LONG = "too_long"
    TOO_MANY_INSTALLMENTS = "too_many_installments"
    COUNT_REDUCED = "count_reduced"
    FIRST_DATE_TOO_LATE = "first_date_too_late"
    FIRST_DATE_PAST = "first_date_past"


@dataclass(frozen=True)
class Terms:
    """A plan policy in one currency's minor units (see policies.service.PlanPolicy)."""

    min_installment: int
    max_months: int
    latest_first_date_days: int
    token_allowed: bool
    token_min_installment: int
    setup_fee: int
    annual_interest_rate: Decimal  # percent per year

    def minimum(self, *, hardship: bool) -> int:
        return self.token_min_installment if hardship and self.token_allowed else self.min_installment


@dataclass(frozen=True)
class Proposal:
    """What the debtor asked for: an amount per installment or a number of installments."""

    frequency: Frequency
    first_date: date
    amount: int | None = None
    count: int | None = None


@dataclass(frozen=True)
class Line:
    seq: int
    due_date: date
    amount: int  # principal + interest + fee
    principal: int
    interest: int
    fee: int


@dataclass(frozen=True)
class Schedule:
    lines: tuple[Line, ...]

    @property
    def principal(self) -> int:
        return sum(line.principal for line in self.lines)

    @property
    def interest(self) -> int:
        return sum(line.interest for line in self.lines)

    @property
    def fee(self) -> int:
        return sum(line.fee for line in self.lines)

    @property
    def cost(self) -> int:
        return self.interest + self.fee

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    proposal: Proposal  # the terms offered (always amount-based); the input when refused
    schedule: Schedule | None
    minimum: int
    max_count: int
    max_months: int
    latest_first_date: date


def add_months(day: date, months: int, *, anchor_day: int | None = None) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day or day.day, last))


def due_date(first: date, frequency: Frequency, index: int) -> date:
    """The `index`-th (0-based) due date. Monthly dates keep the first date's day (31st stays
    the 31st where the month has one) instead of drifting after a short month."""
    if frequency is Frequency.WEEKLY:
        return first + timedelta(weeks=index)
    return add_months(first, index, anchor_day=first.day)


def due_dates(first: date, frequency: Frequency, count: int) -> list[date]:
    return [due_date(first, frequency, i) for i in range(count)]


def max_installments(frequency: Frequency, max_months: int) -> int:
    """Installments that fit in `max_months` (12 months: 12 monthly or 52 weekly)."""
    return max_months if frequency is Frequency.MONTHLY else max_months * 52 // 12


def _interest(outstanding: int, rate: Decimal, frequency: Frequency) -> int:
    value = Decimal(outstanding) * rate / Decimal(100) / PERIODS_PER_YEAR[frequency]
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _lines(principal: int, amount: int, first: date, frequency: Frequency, rate: Decimal, fee: int) -> Iterator[Line]:
    remaining, seq = principal, 0
    while remaining > 0:
        interest = _interest(remaining, rate, frequency)
        if remaining + interest <= amount:
            part, paid = remaining, remaining + interest
        else:
            part, paid = amount - interest, amount
        if part <= 0:  # the amount does not even cover the interest: the debt never shrinks
            raise OverflowError
        charge = fee if seq == 0 else 0
        yield Line(seq + 1, due_date(first, frequency, seq), paid + charge, part, interest, charge)
        remaining -= part
        seq += 1


def build_schedule(
    *,
    principal: int,
    amount: int,
    first_date: date,
    frequency: Frequency,
    annual_rate: Decimal,
    setup_fee: int,
    limit: int,
) -> Schedule | None:
    """The schedule paying `amount` per installment, or None if it needs more than `limit`."""
    lines: list[Line] = []
    try:
        for line in _lines(principal, amount, first_date, frequency, annual_rate, setup_fee):
            if len(lines) == limit:
                return None
            lines.append(line)
    except OverflowError:
        return None
    return Schedule(tuple(lines))


def amount_for_count(*, principal: int, count: int, frequency: Frequency, annual_rate: Decimal) -> int:
    """The smallest installment that pays `principal` (plus interest) in at most `count`."""
    low = -(-principal // max(count, 1))
    high = principal + _interest(principal, annual_rate, frequency)
    while low < high:
        middle = (low + high) // 2
        fits = build_schedule(
            principal=principal, amount=middle, first_date=date.min, frequency=frequency,
            annual_rate=annual_rate, setup_fee=0, limit=count,
        )  # fmt: skip
        if fits is None:
            low = middle + 1
        else:
            high = middle
    return low


def decide(*, principal: int, proposal: Proposal, terms: Terms, today: date, hardship: bool = False) -> Decision:
    """Accept the proposal, or counter it with the nearest plan inside policy, or refuse.

    Refused only when the balance does not exceed the minimum installment: a "plan" would be a
    single payment, so paying in full is the answer. Otherwise every rule has a fix: a first
    date too late moves to the latest allowed date; an amount too low is raised to the minimum
    and then to what finishes within max_months; too many installments are cut to the maximum
    (and fewer, larger ones when they would fall below the minimum).
    """
    token = hardship and terms.token_allowed
    minimum = terms.minimum(hardship=hardship)
    max_months = TOKEN_PLAN_MONTHS if token else terms.max_months
    max_count = max_installments(proposal.frequency, max_months)
    latest = today + timedelta(days=terms.latest_first_date_days)
    decision = Decision(Outcome.REFUSED, (), proposal, None, minimum, max_count, max_months, latest)
    if principal <= minimum:
        return replace(decision, reasons=(Reason.BALANCE_BELOW_MINIMUM,))

    reasons: list[Reason] = []
    first = proposal.first_date
    if first < today:
        first = today
        reasons.append(Reason.FIRST_DATE_PAST)
    elif first > latest:
        first = latest
        reasons.append(Reason.FIRST_DATE_TOO_LATE)
    rate, frequency = terms.annual_interest_rate, proposal.frequency
    if proposal.count is not None:
        count = max(proposal.count, 1)
        if count > max_count:
            count = max_count
            reasons.append(Reason.TOO_MANY_INSTALLMENTS)
        amount = amount_for_count(principal=principal, count=count, frequency=frequency, annual_rate=rate)
        if amount < minimum:
            amount = minimum
            reasons.append(Reason.COUNT_REDUCED)
    else:
        amount = proposal.amount or 0
        if amount < minimum:
            amount = minimum
            reasons.append(Reason.AMOUNT_BELOW_MINIMUM)
        fit = amount_for_count(principal=principal, count=max_count, frequency=frequency, annual_rate=rate)
        if amount < fit:
            amount = fit
            reasons.append(Reason.TOO_LONG)
    schedule = build_schedule(
        principal=principal, amount=amount, first_date=first, frequency=frequency,
        annual_rate=rate, setup_fee=terms.setup_fee, limit=max_count,
    )  # fmt: skip
    assert schedule is not None, "an amount inside policy always fits the maximum term"
    return replace(
        decision,
        outcome=Outcome.COUNTERED if reasons else Outcome.ACCEPTED,
        reasons=tuple(reasons),
        proposal=Proposal(frequency=frequency, first_date=first, amount=amount),
        schedule=schedule,
    )
