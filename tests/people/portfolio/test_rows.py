"""Row checks without a database: phone numbers to E.164 per country, time zones, every problem
of a row named by column and reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from people.portfolio.rows import Problem, Row, check
from tests.people.portfolio.portfolio import row


@pytest.mark.parametrize(
    ("country", "language", "written", "e164", "zone"),
    [
        ("SE", "sv", "070-174 06 42", "+46701740642", "Europe/Stockholm"),
        ("DE", "de", "01522 8817386", "+4915228817386", "Europe/Berlin"),
        ("GB", "en", "07700 900123", "+447700900123", "Europe/London"),
        ("BR", "pt-BR", "(11) 98765-4321", "+5511987654321", "America/Sao_Paulo"),
        ("BR", "pt-br", "+55 92 98765 4321", "+5592987654321", "America/Manaus"),
        ("SE", "sv", "+44 7700 900123", "+447700900123", "Europe/Stockholm"),
    ],
)
def test_phone_normalised_per_country_and_zone_defaulted(
    country: str, language: str, written: str, e164: str, zone: str
) -> None:
    checked = check(2, row("C", "REF-1", country=country, language=language, phone=written, currency="EUR"))
    assert isinstance(checked, Row), checked
    assert (checked.phone, checked.timezone, checked.country) == (e164, zone, country)
    assert checked.locale in {"en", "sv", "de", "pt-BR"}


def test_zone_without_phone_from_country_or_config_else_required() -> None:
    german = check(2, row("C", "REF-1", country="DE", language="de"))  # Berlin and Busingen: config/portfolio.yml
    assert isinstance(german, Row) and german.timezone == "Europe/Berlin"
    american = check(3, row("C", "REF-1", country="US", language="en", currency="USD"))
    assert american == [Problem(3, "timezone", "timezone_required")]
    given = check(4, row("C", "REF-1", country="US", language="en", currency="USD", timezone="America/Chicago"))
    assert isinstance(given, Row) and given.timezone == "America/Chicago"


def test_every_problem_of_a_row_is_named() -> None:
    bad = row(
        "", "A B", date_of_birth="1980-13-03", country="XX", language="fr", timezone="Mars/Olympus", phone="12",
        email="not-an-email", principal="1,000", fees="1.234", currency="SEK", due_date="31/01/2027",
        sms_consent="maybe",
    )  # fmt: skip
    problems = check(7, bad)
    assert isinstance(problems, list)
    assert {(p.column, p.reason) for p in problems} == {
        ("creditor", "required"),
        ("reference", "invalid_reference"),
        ("date_of_birth", "invalid_date"),
        ("country", "unknown_country"),
        ("language", "unsupported_language"),
        ("timezone", "unknown_timezone"),
        ("phone", "invalid_phone"),
        ("email", "invalid_email"),
        ("principal", "invalid_amount"),
        ("fees", "too_many_decimals"),
        ("due_date", "invalid_date"),
        ("sms_consent", "invalid_yes_no"),
    }
    assert {p.line for p in problems} == {7}


def test_references_keep_the_agency_format_and_amounts_their_currency_places() -> None:
    for reference in ("AB/2026/0001", "x-1234", "00001234", "A" * 32):
        assert isinstance(check(2, row("C", reference)), Row), reference
    for reference in ("AB1", "A" * 33, "AB_1234", "AB 1234", "ÅB-1234"):
        assert check(2, row("C", reference)) != [], reference
    yen = check(2, row("C", "JP-1234", currency="JPY", principal="15000", fees="", country="JP", language="en"))
    assert isinstance(yen, Row) and dict(yen.amounts)["principal"] == Decimal("15000")
    assert check(2, row("C", "JP-1234", currency="JPY", principal="150.5", fees="")) == [
        Problem(2, "principal", "too_many_decimals")
    ]
    assert check(2, row("C", "XX-1234", currency="XYZ")) == [Problem(2, "currency", "unknown_currency")]
    assert check(2, row("C", "ZZ-1234", principal="0", fees="0")) == [Problem(2, "principal", "nothing_owed")]


@pytest.mark.parametrize(
    ("country", "written", "stored"),
    [("DE", "BY", "BY"), ("DE", "de-by", "BY"), ("GB", "SCT", "SCT"), ("BR", "BR-SP", "SP"), ("DE", "", None)],
)
def test_region_with_or_without_the_country_is_stored_without_it(
    country: str, written: str, stored: str | None
) -> None:
    checked = check(2, row("C", "REF-1", country=country, language="en", region=written))
    assert isinstance(checked, Row), checked
    assert checked.region == stored


@pytest.mark.parametrize(("country", "written"), [("DE", "XX"), ("DE", "FR-IDF"), ("GB", "BY"), ("DE", "Augsburg")])
def test_a_region_the_country_does_not_have_is_refused(country: str, written: str) -> None:
    assert check(3, row("C", "REF-1", country=country, language="en", region=written)) == [
        Problem(3, "region", "unknown_region")
    ]
