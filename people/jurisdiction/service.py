"""Which rules for this debtor: the jurisdiction of their case (country, region), never their language.

Every rule that is law rather than words asks here: collection policy, allocation, plan limits,
contact hours, holidays, hardship options, retention, crisis line and debt advice. The language
(Debtor.locale, the chat's language) only picks the words those rules are said in, so a person
who writes in another language keeps their rules (config/jurisdictions.yml says why and how a row
without a country is treated).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Container
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package
import phonenumbers
from sqlalchemy import ColumnElement, and_, func, or_

from people.debtors.models import Debtor
from people.jurisdiction.config import Jurisdiction, load

log = logging.getLogger(__name__)
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}")


def supported() -> tuple[str, ...]:
    """The configured countries (ISO 3166-1 alpha-2)."""
    return tuple(load().countries)


def for_country(country: str | None, *, locale: str | None = None) -> Jurisdiction:
    """A configured country's rules. Without a country (legacy rows) the jurisdiction the locale
    stood for; an unconfigured country or locale gets the deployment's default."""
    config = load()
    code = (country or "").strip().upper()
    if code in config.countries:
        return config.countries[code]
    if code:
        log.warning("jurisdiction.unconfigured_country", extra={"country": code[:8]})
    elif locale in config.locale_countries:
        return config.countries[config.locale_countries[locale]]
    return config.countries[config.default_country]


def of(debtor: Debtor) -> Jurisdiction:
    """The debtor's jurisdiction: their country (the creditor's placement), never their language."""
    return for_country(debtor.country, locale=debtor.locale)


def country_of(debtor: Debtor) -> str:
    return of(debtor).country


def timezone_of(debtor: Debtor) -> ZoneInfo:
    """The debtor's own time zone; one missing or unknown is their jurisdiction's (never UTC)."""
    try:
        return ZoneInfo(debtor.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo(of(debtor).timezone)


def region_of(debtor: Debtor) -> str | None:
    """The debtor's region when it belongs to their jurisdiction, else the jurisdiction's default one."""
    jurisdiction = of(debtor)
    if debtor.region and (debtor.country or "").upper() == jurisdiction.country:
        return debtor.region.upper()
    return jurisdiction.default_region


def debtors_in(country: str) -> ColumnElement[bool]:
    """SQL over Debtor: the debtors whose jurisdiction is `country`, by the same rule as `of`."""
    config = load()
    code = country.upper()
    legacy = sorted(locale for locale, mapped in config.locale_countries.items() if mapped == code)
    country_code = func.upper(Debtor.country)  # as `for_country` reads it: "de" is Germany too
    parts = [country_code == code, and_(Debtor.country.is_(None), Debtor.locale.in_(legacy))]
    if code == config.default_country:
        parts.append(country_code.not_in(sorted(config.countries)))
        parts.append(and_(Debtor.country.is_(None), Debtor.locale.not_in(sorted(config.locale_countries))))
    return or_(*parts)


def country_of_address(address: str | None) -> str | None:
    """The configured country of a phone number (SMS/WhatsApp sender), else None."""
    if not address:
        return None
    found = _PHONE.search(address)
    if found is None:
        return None
    digits = found.group(0)
    try:
        number = phonenumbers.parse(digits if digits.startswith("+") else f"+{digits}", None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region in load().countries else None


PHONE_CHANNELS = ("sms", "whatsapp")


def for_stranger(*, channel: str | None, address: str | None, locale: str | None) -> Jurisdiction:
    """Best guess for someone not yet identified: the country of the number they write from (SMS,
    WhatsApp), else the jurisdiction their language maps to (config: locale_countries)."""
    country = country_of_address(address) if channel in PHONE_CHANNELS else None
    return for_country(country, locale=locale)


@lru_cache(maxsize=256)
def calendar(country: str, region: str | None = None) -> Container[date]:
    """The public holidays of a jurisdiction (and region), from the `holidays` package, any year.
    A region the package does not know gives the nationwide holidays (logged)."""
    jurisdiction = for_country(country)
    categories = jurisdiction.holiday_categories
    subdivision = region or jurisdiction.default_region
    try:
        days: Container[date] = holidays_package.country_holidays(
            jurisdiction.country, subdiv=subdivision, categories=categories
        )
    except NotImplementedError:
        log.warning("jurisdiction.unknown_region", extra={"country": jurisdiction.country, "region": str(region)[:8]})
        days = holidays_package.country_holidays(
            jurisdiction.country, subdiv=jurisdiction.default_region, categories=categories
        )
    return days


def holidays_of(debtor: Debtor) -> Container[date]:
    return calendar(country_of(debtor), region_of(debtor))


def is_holiday(day: date, *, country: str, region: str | None = None) -> bool:
    return day in calendar(country, region)


def crisis_arguments(jurisdiction: Jurisdiction) -> dict[str, Any]:
    """The crisis line's name and number and the emergency number, for the crisis texts."""
    return {
        "crisis_name": jurisdiction.crisis.name,
        "crisis_phone": jurisdiction.crisis.phone or "",
        "emergency_number": jurisdiction.emergency,
    }


def advice_arguments(jurisdiction: Jurisdiction) -> dict[str, Any]:
    """The free debt advice, as the structured `advice` argument the formatter words per locale."""
    return {"advice": jurisdiction.advice.arguments()}
