from __future__ import annotations

from datetime import date

import pytest

from people.identity.dates import parse_date, parse_reference

BORN = date(1985, 4, 12)


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("12.04.1985", "DMY"),
        ("12/04/1985", "DMY"),
        ("1985-04-12", "DMY"),
        ("12-04-1985", "DMY"),
        ("12/4 1985", "YMD"),
        ("12 april 1985", "YMD"),
        ("12 April 1985", "DMY"),
        ("12. April 1985", "DMY"),
        ("12th April 1985", "DMY"),
        ("April 12, 1985", "DMY"),
        ("12 de abril de 1985", "DMY"),
        ("12 abr 1985", "DMY"),
        ("jag är född 12 april 1985 tack", "YMD"),
        ("19850412", "YMD"),
        ("850412", "YMD"),
        ("12.04.85", "DMY"),
    ],
)
def test_birth_dates_as_people_write_them(text: str, order: str) -> None:
    assert parse_date(text, date_order=order, today=date(2026, 11, 25)) == BORN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3. März 1979", date(1979, 3, 3)),
        ("3 marz 1979", date(1979, 3, 3)),
        ("14 de março de 1990", date(1990, 3, 14)),
        ("14 de marco de 1990", date(1990, 3, 14)),
        ("1 maj 1990", date(1990, 5, 1)),
        ("3 okt 1990", date(1990, 10, 3)),
        ("04/13/1990", date(1990, 4, 13)),  # only month-first makes sense
    ],
)
def test_month_names_and_unambiguous_orders(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "hello", "31.02.1985", "99/99/1999", "my number is 123", "850412"])
def test_not_a_date(text: str) -> None:
    assert parse_date(text, date_order="DMY") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("SE-100234", "SE-100234"), ("se100234", "SE-100234"), ("my ref is de 200871", "DE-200871"), ("hello", None)],
)
def test_reference(text: str, expected: str | None) -> None:
    assert parse_reference(text) == expected
