"""Texts that depend on both the jurisdiction and the language, for every pair: the words are the
language's, the organisations, numbers, schemes, laws and currency the jurisdiction's. A German
case written to in English reads English, names TelefonSeelsorge and the Schuldnerberatung, in euros."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from handoff import config as handoff_config
from locales import Catalog
from locales.catalog import TONES
from people.gdpr.config import load as privacy_config
from people.jurisdiction import service as jurisdiction

catalog = Catalog()
COUNTRIES = ("GB", "SE", "DE", "BR")
LOCALES = ("en", "sv", "de", "pt-BR")
PAIRS = [(country, locale) for country in COUNTRIES for locale in LOCALES]


def others(country: str) -> list[jurisdiction.Jurisdiction]:
    return [jurisdiction.for_country(code) for code in COUNTRIES if code != country]


@pytest.mark.parametrize(("country", "locale"), PAIRS)
@pytest.mark.parametrize("tone", TONES)
def test_crisis_line_is_the_jurisdictions_in_the_language(country: str, locale: str, tone: str) -> None:
    where = jurisdiction.for_country(country)
    text = catalog.render("utter_crisis_support", locale, tone, jurisdiction.crisis_arguments(where)).text
    assert where.crisis.name in text and f"{where.crisis.phone}" in text and where.emergency in text
    assert "{" not in text
    for other in others(country):
        assert other.crisis.name not in text and (other.crisis.phone or "-") not in text
    # The sentence is the language's own wording.
    assert text.startswith(catalog.text("utter_crisis_support", locale, tone).split("{")[0])


@pytest.mark.parametrize(("country", "locale"), PAIRS)
@pytest.mark.parametrize("key", ["utter_hardship_options", "utter_arrangement_hardship_noted"])
def test_debt_advice_is_the_jurisdictions_in_the_language(country: str, locale: str, key: str) -> None:
    where = jurisdiction.for_country(country)
    text = catalog.render(key, locale, None, jurisdiction.advice_arguments(where)).text
    assert where.advice.name in text and "{" not in text
    for part in (where.advice.phone, where.advice.url):
        assert part is None or part in text
    for other in others(country):
        assert other.advice.name not in text
    assert text.startswith(catalog.text(key, locale).split("{")[0])


@pytest.mark.parametrize(("country", "locale"), PAIRS)
def test_statutory_hardship_scheme_only_where_the_law_has_it(country: str, locale: str) -> None:
    """Breathing Space (the Debt Respite Scheme of England and Wales) is offered to GB cases only,
    in any language, and explained with the GB debt advice."""
    options = handoff_config.load().hardship_for(country)
    assert ("breathing_space" in options.options) is (country == "GB")
    if country == "GB":
        where = jurisdiction.for_country(country)
        text = catalog.render(
            "utter_hardship_breathing_space", locale, None,
            {**jurisdiction.advice_arguments(where), "days": options.breathing_space_days},
        ).text  # fmt: skip
        assert where.advice.name in text and "60" in text and "{" not in text


@pytest.mark.parametrize(("country", "locale"), PAIRS)
def test_retention_law_is_the_jurisdictions(country: str, locale: str) -> None:
    rule = privacy_config().for_country(country)
    assert rule is not None
    names = {"GB": "UK", "SE": "Sweden", "DE": "Germany", "BR": "Brazil"}
    assert rule.law.startswith(names[country])
    kept = privacy_config().retain_ledger_until(country, date(2026, 5, 1))
    assert kept == date(2026 + {"GB": 6, "SE": 7, "DE": 10, "BR": 5}[country], 12, 31)


@pytest.mark.parametrize(("country", "locale"), PAIRS)
def test_money_is_the_jurisdictions_currency_written_the_languages_way(country: str, locale: str) -> None:
    where = jurisdiction.for_country(country)
    arguments = {
        "first_money": {"amount": "408.40", "currency": where.currency},
        "first_date": "2026-12-15",
        "url": "https://pay.example.org/x",
    }
    text = catalog.render("utter_plan_payment_link", locale, None, arguments).text
    expected = format_currency(Decimal("408.40"), where.currency, locale=catalog.config(locale).babel)
    assert expected in text


def test_a_german_case_in_english_reads_english_with_german_rules() -> None:
    de = jurisdiction.for_country("DE")
    money = catalog.render(
        "utter_plan_payment_link", "en", None,
        {"first_money": {"amount": "408.40", "currency": de.currency}, "first_date": "2026-12-15", "url": "u"},
    ).text  # fmt: skip
    assert "€408.40" in money
    advice = catalog.render("utter_hardship_options", "en", "formal", jurisdiction.advice_arguments(de)).text
    assert advice.startswith("Free and confidential debt advice is available from Schuldnerberatung")
    crisis = catalog.render("utter_crisis_support", "en", "formal", jurisdiction.crisis_arguments(de)).text
    assert "TelefonSeelsorge can be reached free of charge at any time on 0800 111 0 111" in crisis
    assert "call 112" in crisis and "Samaritans" not in crisis


@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_jurisdiction_the_advice_names_no_organisation(locale: str) -> None:
    text = catalog.render("utter_hardship_options", locale).text
    assert "{" not in text
    for code in COUNTRIES:
        assert jurisdiction.for_country(code).advice.name not in text
