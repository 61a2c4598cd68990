"""Amounts, plan terms and payment dates as people type them in the four languages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from money.arrangements.models import Frequency
from money.arrangements.parsing import (
    PlanTerms,
    parse_amount,
    parse_frequency,
    parse_terms,
    parse_when,
    wants_full_amount,
)

THURSDAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500 kr", (Decimal("500"), "SEK")),
        ("jag kan betala 500 kr den 25:e", (Decimal("500"), "SEK")),
        ("4 250,00 kr", (Decimal("4250.00"), "SEK")),
        ("£50", (Decimal("50"), "GBP")),
        ("i'll pay £50 on the 25th", (Decimal("50"), "GBP")),
        ("60 pounds", (Decimal("60"), "GBP")),
        ("R$ 200", (Decimal("200"), "BRL")),
        ("vou pagar R$1.100 dia 10", (Decimal("1100"), "BRL")),
        ("50 euro", (Decimal("50"), "EUR")),
        ("ich zahle am 15. 100 Euro", (Decimal("100"), "EUR")),
        ("25€", (Decimal("25"), "EUR")),
        ("200,50", (Decimal("200.50"), None)),
        ("1.250,00", (Decimal("1250.00"), None)),
        ("1,250.00", (Decimal("1250.00"), None)),
        ("50 on 12.05.2026", (Decimal("50"), None)),
        ("the 25th", None),
        ("den 25:e", None),
        ("nope", None),
    ],
)
def test_amounts(text: str, expected: tuple[Decimal, str | None] | None) -> None:
    assert parse_amount(text) == expected


def test_full_amount_words() -> None:
    assert wants_full_amount("i'll pay the lot on the 31st") and wants_full_amount("jag betalar hela skulden")
    assert wants_full_amount("ich zahle alles") and wants_full_amount("vou pagar tudo")
    assert not wants_full_amount("i'll pay on friday")


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("6 months", PlanTerms(count=6, frequency=Frequency.MONTHLY)),
        ("12 Raten", PlanTerms(count=12)),
        ("em 10x", PlanTerms(count=10)),
        ("6", PlanTerms(count=6)),
        ("£20 a month", PlanTerms(amount=Decimal("20"), currency="GBP", frequency=Frequency.MONTHLY)),
        ("200 kr i månaden", PlanTerms(amount=Decimal("200"), currency="SEK", frequency=Frequency.MONTHLY)),
        ("50 € pro Woche", PlanTerms(amount=Decimal("50"), currency="EUR", frequency=Frequency.WEEKLY)),
        ("R$ 100 por mês", PlanTerms(amount=Decimal("100"), currency="BRL", frequency=Frequency.MONTHLY)),
        ("50 a month for 6 months", PlanTerms(amount=Decimal("50"), frequency=Frequency.MONTHLY)),
        ("5 a week", PlanTerms(amount=Decimal("5"), frequency=Frequency.WEEKLY)),
        ("20", PlanTerms(amount=Decimal("20"))),
        ("no idea", None),
    ],
)
def test_plan_terms(text: str, terms: PlanTerms | None) -> None:
    assert parse_terms(text, minimum=Decimal("10")) == terms


def test_frequency_words_and_button_payload() -> None:
    assert parse_frequency('/inform{"frequency": "weekly"}') is Frequency.WEEKLY
    assert parse_frequency("månadsvis") is Frequency.MONTHLY and parse_frequency("wöchentlich") is Frequency.WEEKLY
    assert parse_frequency("mensal") is Frequency.MONTHLY and parse_frequency("whenever") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow", date(2026, 11, 27)),
        ("morgen", date(2026, 11, 27)),
        ("amanhã", date(2026, 11, 27)),
        ("i övermorgon", date(2026, 11, 28)),
        ("friday", date(2026, 11, 27)),
        ("next thursday", date(2026, 12, 3)),  # today's weekday means next week
        ("på fredag", date(2026, 11, 27)),
        ("sexta-feira", date(2026, 11, 27)),
        ("am Montag", date(2026, 11, 30)),
        ("den 25:e", date(2026, 12, 25)),
        ("am 15.", date(2026, 12, 15)),
        ("dia 10", date(2026, 12, 10)),
        ("on the 28th", date(2026, 11, 28)),
        ("on the 1st of next month", date(2026, 12, 1)),
        ("25", date(2026, 12, 25)),
        ("25 maj", date(2027, 5, 25)),
        ("5 December", date(2026, 12, 5)),
        ("December 5th", date(2026, 12, 5)),
        ("15. März", date(2027, 3, 15)),
        ("12/12", date(2026, 12, 12)),
        ("05/12/2026", date(2026, 12, 5)),
        ("2026-12-05", date(2026, 12, 5)),
        ("in 5 days", date(2026, 12, 1)),
        ("om 2 veckor", date(2026, 12, 10)),
        ("end of the month", date(2026, 11, 30)),
        ("when I can", None),
    ],
)
def test_dates(text: str, expected: date | None) -> None:
    assert parse_when(text, today=THURSDAY) == expected


def test_a_bare_number_is_a_day_only_when_a_date_was_asked_for() -> None:
    assert parse_when("25", today=THURSDAY) == date(2026, 12, 25)
    assert parse_when("25", today=THURSDAY, bare_day=False) is None
    assert parse_when("£20 a month from the 1st", today=THURSDAY, bare_day=False) == date(2026, 12, 1)
