"""Schedule arithmetic and the plan policy decision: pure functions, no database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from money.arrangements.models import Frequency
from money.arrangements.schedule import (
    Outcome,
    Proposal,
    Reason,
    Terms,
    add_months,
    amount_for_count,
    build_schedule,
    decide,
    due_dates,
    max_installments,
)

TODAY = date(2026, 11, 26)
TERMS = Terms(
    min_installment=1000,
    max_months=12,
    latest_first_date_days=30,
    token_allowed=False,
    token_min_installment=500,
    setup_fee=0,
    annual_interest_rate=Decimal("0"),
)


def test_monthly_dates_keep_the_day_and_clamp_to_month_end() -> None:
    assert due_dates(date(2027, 1, 31), Frequency.MONTHLY, 4) == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30),
    ]  # fmt: skip
    assert due_dates(date(2027, 12, 15), Frequency.MONTHLY, 2) == [date(2027, 12, 15), date(2028, 1, 15)]
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_weekly_dates() -> None:
    assert due_dates(date(2026, 12, 1), Frequency.WEEKLY, 3) == [
        date(2026, 12, 1),
        date(2026, 12, 8),
        date(2026, 12, 15),
    ]


def test_max_installments_per_frequency() -> None:
    assert max_installments(Frequency.MONTHLY, 12) == 12
    assert max_installments(Frequency.WEEKLY, 12) == 52
    assert max_installments(Frequency.WEEKLY, 6) == 26


def test_last_installment_takes_the_remainder() -> None:
    schedule = build_schedule(
        principal=61245, amount=6000, first_date=TODAY, frequency=Frequency.MONTHLY,
        annual_rate=Decimal(0), setup_fee=0, limit=12,
    )  # fmt: skip
    assert schedule is not None
    assert [line.amount for line in schedule.lines] == [6000] * 10 + [1245]
    assert schedule.total == schedule.principal == 61245 and schedule.cost == 0


def test_interest_on_the_declining_balance_and_the_setup_fee_on_the_first() -> None:
    schedule = build_schedule(
        principal=120000, amount=40000, first_date=TODAY, frequency=Frequency.MONTHLY,
        annual_rate=Decimal("12"), setup_fee=2500, limit=12,
    )  # fmt: skip
    assert schedule is not None
    # 1 % a month on what is still owed: 12.00 on 1 200.00, 8.12 on 811.88, 4.20 on 420.12 …
    assert [(line.principal, line.interest, line.fee) for line in schedule.lines] == [
        (38800, 1200, 2500), (39188, 812, 0), (39580, 420, 0), (2432, 24, 0),
    ]  # fmt: skip
    assert [line.amount for line in schedule.lines] == [42500, 40000, 40000, 2456]
    assert schedule.principal == 120000 and schedule.interest == 2456 and schedule.cost == 4956
    assert schedule.total == 120000 + 4956


def test_an_amount_that_does_not_cover_the_interest_never_ends() -> None:
    assert build_schedule(
        principal=100000, amount=100, first_date=TODAY, frequency=Frequency.MONTHLY,
        annual_rate=Decimal("12"), setup_fee=0, limit=1000,
    ) is None  # fmt: skip


def test_amount_for_count_is_the_smallest_that_fits() -> None:
    assert amount_for_count(principal=61245, count=12, frequency=Frequency.MONTHLY, annual_rate=Decimal(0)) == 5104
    with_interest = amount_for_count(principal=40840, count=6, frequency=Frequency.MONTHLY, annual_rate=Decimal(5))
    fits = build_schedule(
        principal=40840, amount=with_interest, first_date=TODAY, frequency=Frequency.MONTHLY,
        annual_rate=Decimal(5), setup_fee=0, limit=6,
    )  # fmt: skip
    too_little = build_schedule(
        principal=40840, amount=with_interest - 1, first_date=TODAY, frequency=Frequency.MONTHLY,
        annual_rate=Decimal(5), setup_fee=0, limit=6,
    )  # fmt: skip
    assert fits is not None and too_little is None


def test_proposal_inside_policy_is_accepted_as_is() -> None:
    proposal = Proposal(Frequency.MONTHLY, TODAY + timedelta(days=5), amount=6000)
    decision = decide(principal=61245, proposal=proposal, terms=TERMS, today=TODAY)
    assert decision.outcome is Outcome.ACCEPTED and decision.reasons == ()
    assert decision.proposal == proposal and decision.schedule and len(decision.schedule.lines) == 11


def test_count_proposal_becomes_an_amount() -> None:
    decision = decide(principal=61245, proposal=Proposal(Frequency.MONTHLY, TODAY, count=6), terms=TERMS, today=TODAY)
    assert decision.outcome is Outcome.ACCEPTED and decision.proposal.amount == 10208
    assert decision.schedule and [line.amount for line in decision.schedule.lines][-1] == 61245 - 5 * 10208


def test_too_low_and_too_late_is_countered_inside_policy_with_every_reason() -> None:
    proposal = Proposal(Frequency.MONTHLY, TODAY + timedelta(days=60), amount=500)
    decision = decide(principal=61245, proposal=proposal, terms=TERMS, today=TODAY)
    assert decision.outcome is Outcome.COUNTERED
    assert decision.reasons == (Reason.FIRST_DATE_TOO_LATE, Reason.AMOUNT_BELOW_MINIMUM, Reason.TOO_LONG)
    assert decision.proposal.first_date == TODAY + timedelta(days=30) == decision.latest_first_date
    assert decision.proposal.amount == 5104  # what finishes in 12 months
    assert decision.schedule and len(decision.schedule.lines) == 12


def test_too_many_installments_are_cut_and_too_small_ones_merged() -> None:
    many = decide(principal=61245, proposal=Proposal(Frequency.MONTHLY, TODAY, count=24), terms=TERMS, today=TODAY)
    assert many.reasons == (Reason.TOO_MANY_INSTALLMENTS,) and many.schedule and len(many.schedule.lines) == 12
    small = decide(principal=3000, proposal=Proposal(Frequency.WEEKLY, TODAY, count=10), terms=TERMS, today=TODAY)
    assert small.reasons == (Reason.COUNT_REDUCED,) and small.proposal.amount == 1000
    assert small.schedule and [line.amount for line in small.schedule.lines] == [1000, 1000, 1000]


def test_balance_not_above_the_minimum_is_refused() -> None:
    decision = decide(principal=1000, proposal=Proposal(Frequency.MONTHLY, TODAY, amount=500), terms=TERMS, today=TODAY)
    assert decision.outcome is Outcome.REFUSED and decision.reasons == (Reason.BALANCE_BELOW_MINIMUM,)
    assert decision.schedule is None


@pytest.mark.parametrize(("allowed", "outcome"), [(True, Outcome.ACCEPTED), (False, Outcome.COUNTERED)])
def test_hardship_token_payment_only_where_policy_allows(allowed: bool, outcome: Outcome) -> None:
    terms = Terms(**{**TERMS.__dict__, "token_allowed": allowed, "token_min_installment": 100})
    proposal = Proposal(Frequency.WEEKLY, TODAY, amount=500)
    decision = decide(principal=61245, proposal=proposal, terms=terms, today=TODAY, hardship=True)
    assert decision.outcome is outcome
    if allowed:  # a token payment is not bound by max_months
        assert decision.schedule and len(decision.schedule.lines) == 123
    assert decide(principal=61245, proposal=proposal, terms=terms, today=TODAY).outcome is Outcome.COUNTERED


def test_past_first_date_moves_to_today() -> None:
    decision = decide(
        principal=61245,
        proposal=Proposal(Frequency.MONTHLY, TODAY - timedelta(days=3), amount=6000),
        terms=TERMS,
        today=TODAY,
    )
    assert decision.reasons == (Reason.FIRST_DATE_PAST,) and decision.proposal.first_date == TODAY
