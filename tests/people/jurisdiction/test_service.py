"""Which rules for a debtor: their country (and region), never their language; legacy rows without a
country keep what their locale stood for; strangers get the country of their number; the SQL
selection agrees with the Python rule (SQLite + PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from people.debtors.models import Debtor
from people.debtors.seed import DEMO
from people.jurisdiction import service as jurisdiction
from people.jurisdiction.config import load, parse

COUNTRIES = ("GB", "SE", "DE", "BR")
LOCALES = ("en", "sv", "de", "pt-BR")


def debtor(
    country: str | None, locale: str = "en", region: str | None = None, timezone: str = "Europe/Berlin"
) -> Debtor:
    return Debtor(
        reference=f"JU-{uuid.uuid4().hex[:10]}", name="Jo Jurist", date_of_birth=date(1980, 1, 1),
        locale=locale, timezone=timezone, country=country, region=region,
    )  # fmt: skip


def test_the_four_jurisdictions_are_supported_and_complete() -> None:
    assert set(jurisdiction.supported()) == set(COUNTRIES)
    for code in COUNTRIES:
        found = jurisdiction.for_country(code)
        assert found.country == code and found.crisis.phone and found.emergency and found.advice.name
    assert {j.currency for j in map(jurisdiction.for_country, COUNTRIES)} == {"GBP", "SEK", "EUR", "BRL"}


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_country_decides_whatever_the_language(country: str, locale: str) -> None:
    assert jurisdiction.of(debtor(country, locale)).country == country
    assert jurisdiction.of(debtor(country.lower(), locale)).country == country


@pytest.mark.parametrize(("locale", "country"), [("en", "GB"), ("sv", "SE"), ("de", "DE"), ("pt-BR", "BR")])
def test_a_row_without_a_country_keeps_the_jurisdiction_its_locale_stood_for(locale: str, country: str) -> None:
    assert jurisdiction.of(debtor(None, locale)).country == country


def test_unknown_locales_and_unconfigured_countries_get_the_deployments_default() -> None:
    default = load().default_country
    assert jurisdiction.of(debtor(None, "fr")).country == default
    assert jurisdiction.of(debtor("FR", "de")).country == default  # not Germany because of the language


def test_the_demo_debtors_are_placed_in_their_countries() -> None:
    assert {d["reference"]: d["country"] for d in DEMO} == {
        "SE-100234": "SE", "DE-200871": "DE", "UK-300552": "GB", "BR-400918": "BR",
    }  # fmt: skip


def test_region_belongs_to_the_jurisdiction_and_defaults_where_configured() -> None:
    assert jurisdiction.region_of(debtor("DE", region="by")) == "BY"
    assert jurisdiction.region_of(debtor("DE")) is None
    assert jurisdiction.region_of(debtor("GB")) == "ENG"  # England & Wales unless told otherwise
    assert jurisdiction.region_of(debtor("GB", region="SCT")) == "SCT"


def test_regional_holidays() -> None:
    epiphany = date(2027, 1, 6)
    assert epiphany in jurisdiction.holidays_of(debtor("DE", "en", region="BY"))  # Heilige Drei Könige
    assert epiphany not in jurisdiction.holidays_of(debtor("DE", "en", region="BE"))
    assert epiphany not in jurisdiction.holidays_of(debtor("DE", "en"))
    assert jurisdiction.is_holiday(date(2026, 10, 3), country="DE")
    assert not jurisdiction.is_holiday(date(2026, 10, 3), country="GB")
    assert jurisdiction.is_holiday(date(2026, 6, 19), country="SE")  # midsommarafton (de facto)
    assert jurisdiction.is_holiday(date(2026, 2, 16), country="BR")  # Carnaval (ponto facultativo)


def test_time_zone_is_the_debtors_else_the_jurisdictions() -> None:
    assert jurisdiction.timezone_of(debtor("DE", timezone="Europe/Berlin")).key == "Europe/Berlin"
    assert jurisdiction.timezone_of(debtor("BR", timezone="Not/AZone")).key == "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("channel", "address", "locale", "country"),
    [
        ("sms", "+4915123456789", "en", "DE"),  # a German mobile writing English
        ("whatsapp", "whatsapp:+46701740642", "de", "SE"),
        ("sms", "+33612345678", "de", "DE"),  # France is not configured: the language's mapping
        ("telegram", "4915123456789", "pt-BR", "BR"),  # a Telegram chat id is no phone number
        ("webchat", "f00d", "sv", "SE"),
    ],
)
def test_a_stranger_gets_the_country_of_their_number_else_their_languages(
    channel: str, address: str, locale: str, country: str
) -> None:
    assert jurisdiction.for_stranger(channel=channel, address=address, locale=locale).country == country


def test_crisis_and_advice_arguments_come_from_the_jurisdiction() -> None:
    de = jurisdiction.for_country("DE")
    assert jurisdiction.crisis_arguments(de) == {
        "crisis_name": "TelefonSeelsorge", "crisis_phone": "0800 111 0 111", "emergency_number": "112",
    }  # fmt: skip
    assert jurisdiction.advice_arguments(de)["advice"]["name"].startswith("Schuldnerberatung")


def test_bad_configuration_is_refused() -> None:
    good = {"timezone": "Europe/Berlin", "currency": "EUR", "crisis": {"name": "X", "phone": "1", "emergency": "112"}}
    good |= {"advice": {"name": "Y"}}
    with pytest.raises(ValueError, match="default_country"):
        parse({"countries": {"DE": good}, "default_country": "GB"})
    with pytest.raises(ValueError, match="locale_countries"):
        parse({"countries": {"DE": good}, "default_country": "DE", "locale_countries": {"en": "GB"}})
    with pytest.raises(ValueError, match="IANA"):
        parse({"countries": {"DE": good | {"timezone": "Mars/Base"}}, "default_country": "DE"})
    with pytest.raises(ValueError, match="holidays package"):
        parse({"countries": {"XQ": good}, "default_country": "XQ"})


async def test_the_sql_selection_agrees_with_the_rule(session: AsyncSession) -> None:
    rows = [
        debtor("DE", "en"), debtor("SE", "de"), debtor(None, "de"), debtor(None, "fr"), debtor("FR", "sv"),
        debtor("GB", "pt-BR"), debtor(None, "pt-BR"), debtor("de", "sv"),
    ]  # fmt: skip
    session.add_all(rows)
    await session.flush()
    ids = [row.id for row in rows]
    for code in COUNTRIES:
        found = set(
            (await session.scalars(select(Debtor.id).where(Debtor.id.in_(ids), jurisdiction.debtors_in(code)))).all()
        )
        assert found == {row.id for row in rows if jurisdiction.of(row).country == code}, code
