"""Checking each record of a portfolio file (reader.py reads them).

Pure functions, no database: a row is either a `Row` or a list of `Problem`s (line, column,
reason code), and a row with any problem is applied not at all."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import holidays
import phonenumbers
import yaml
from babel import Locale
from babel.core import get_global
from babel.numbers import is_currency, list_currencies
from phonenumbers import timezone as phone_zones

from core.config import ROOT
from money.ledger.money import exponent
from people.debtors.fiction import fiction_range

REQUIRED = (
    "creditor", "reference", "first_name", "last_name", "date_of_birth", "country", "language",
    "principal", "currency", "due_date",
)  # fmt: skip
OPTIONAL = ("region", "timezone", "phone", "email", "fees", "interest", "sms_consent", "whatsapp_opt_in", "debtor_id")
COLUMNS = REQUIRED + OPTIONAL
LANGUAGES = {code.casefold(): code for code in ("en", "sv", "de", "pt-BR")}
REFERENCE = re.compile(r"[A-Za-z0-9/-]{4,32}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
AMOUNT = re.compile(r"\d{1,12}(?:\.(\d+))?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
YES_NO = {"yes": True, "no": False}
REGION = re.compile(r"[A-Z0-9]{1,3}")
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    reason: str


@dataclass(frozen=True)
class Row:
    line: int
    creditor: str
    reference: str
    name: str
    date_of_birth: date
    country: str
    region: str | None  # ISO 3166-2 subdivision without the country (BY, SCT): regional holidays
    locale: str
    timezone: str
    phone: str | None
    email: str | None
    currency: str
    due_date: date
    amounts: tuple[tuple[str, Decimal], ...]  # (component, amount): principal, fees, interest
    sms_consent: bool | None
    whatsapp_opt_in: bool | None
    debtor_id: int | None


@dataclass(frozen=True)
class Settings:
    chunk_size: int
    default_timezones: dict[str, str]


@cache
def settings(path: Path = ROOT / "config" / "portfolio.yml") -> Settings:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Settings(chunk_size=int(raw["chunk_size"]), default_timezones=dict(raw["default_timezones"]))


@cache
def countries() -> frozenset[str]:
    codes = Locale("en").territories
    return frozenset(str(c) for c in codes if len(str(c)) == 2 and str(c).isalpha() and c not in NOT_COUNTRIES)


@cache
def currencies() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if len(code) == 3 and is_currency(code))


@cache
def timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def regions(country: str) -> frozenset[str] | None:
    """The subdivision codes the `holidays` package knows for a country (None: it knows none, so
    any short code is taken as given)."""
    known = holidays.list_supported_countries().get(country)
    return frozenset(code for code in known if REGION.fullmatch(code)) if known else None


def _region(check: _Checker, country: str | None) -> str | None:
    """`BY` or `DE-BY` for Bavaria: stored without the country, checked against the country's."""
    given = check.get("region", max_length=8).upper()
    if not given or country is None:
        return None
    code = given.removeprefix(f"{country}-")
    known = regions(country)
    if not REGION.fullmatch(code) or (known is not None and code not in known):
        check.bad("region", "unknown_region")
        return None
    return code


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


class _Checker:
    """Collects every problem of one row (so one report names them all)."""

    def __init__(self, line: int, fields: dict[str, Any]) -> None:
        self.line, self.fields, self.problems = line, fields, list[Problem]()

    def bad(self, column: str, reason: str) -> None:
        self.problems.append(Problem(self.line, column, reason))

    def get(self, column: str, *, required: bool = False, max_length: int = 200) -> str:
        value = _text(self.fields.get(column))
        if required and not value:
            self.bad(column, "required")
        elif len(value) > max_length:
            self.bad(column, "too_long")
            return ""
        return value

    def iso_date(self, column: str) -> date | None:
        value = self.get(column, required=True)
        if not value:
            return None
        try:
            if not ISO_DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.bad(column, "invalid_date")
            return None

    def yes_no(self, column: str) -> bool | None:
        value = self.get(column).casefold()
        if value and value not in YES_NO:
            self.bad(column, "invalid_yes_no")
        return YES_NO.get(value)

    def amount(self, column: str, currency: str | None, *, required: bool = False) -> Decimal:
        value = self.get(column, required=required)
        if not value:
            return Decimal(0)
        match = AMOUNT.fullmatch(value)
        if not match:
            self.bad(column, "invalid_amount")
        elif currency and len(match[1] or "") > exponent(currency):
            self.bad(column, "too_many_decimals")
        else:
            return Decimal(value)
        return Decimal(0)


@lru_cache(maxsize=100_000)
def normalised_phone(raw: str, country: str | None) -> tuple[str, tuple[str, ...]] | None:
    """E.164 and the time zones the number names, or None when it is no phone number. Checked
    against the row's country first (checking one against every region sharing its calling code,
    +1 or +44, is slow); cached by (raw, country): a file repeats numbers (one per debtor, a row
    per debt) and parsing is the costliest check of a row."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    in_country = country is not None and phonenumbers.is_valid_number_for_region(number, country)
    # Numbers reserved for fiction (tests, demos) are not "valid" to the library, only possible.
    if not (
        in_country
        or (fiction_range(e164) is not None and phonenumbers.is_possible_number(number))
        or phonenumbers.is_valid_number(number)
    ):
        return None
    return e164, tuple(str(z) for z in phone_zones.time_zones_for_number(number) if z in timezones())


def _phone(check: _Checker, country: str | None) -> tuple[str | None, tuple[str, ...]]:
    """E.164 and the number's time zones (none without a phone)."""
    raw = check.get("phone", max_length=40)
    if not raw:
        return None, ()
    found = normalised_phone(raw, country)
    if found is None:
        check.bad("phone", "invalid_phone")
        return None, ()
    return found


@cache
def country_zones(country: str) -> tuple[str, ...]:
    return tuple(str(z) for z in get_global("territory_zones").get(country, ()) if z in timezones())


def _timezone(check: _Checker, country: str | None, by_phone: tuple[str, ...]) -> str:
    """The given zone; else the country's only one; else the phone number's (when it names one
    of the country's); else config/portfolio.yml's default for the country."""
    given = check.get("timezone", max_length=64)
    if given:
        if given not in timezones():
            check.bad("timezone", "unknown_timezone")
        return given
    if country is None:
        return ""
    zones = country_zones(country)
    if len(zones) == 1:
        return zones[0]
    if len(by_phone) == 1 and (by_phone[0] in zones or not zones):
        return by_phone[0]
    if default := settings().default_timezones.get(country):
        return default
    check.bad("timezone", "timezone_required")
    return ""


def check(line: int, fields: dict[str, Any]) -> Row | list[Problem]:
    """One record as a Row, or every problem it has."""
    if "" in fields:  # the reader could not split it into fields
        return [Problem(line, "", str(fields[""]))]
    c = _Checker(line, fields)
    creditor = c.get("creditor", required=True)
    reference = c.get("reference", required=True, max_length=32)
    if reference and not REFERENCE.fullmatch(reference):
        c.bad("reference", "invalid_reference")
    first, last = c.get("first_name", required=True, max_length=99), c.get("last_name", required=True, max_length=99)
    born = c.iso_date("date_of_birth")
    if born and not date(1900, 1, 1) <= born < date.today():
        c.bad("date_of_birth", "implausible_date")
    country: str | None = c.get("country", required=True).upper()
    if country and country not in countries():
        c.bad("country", "unknown_country")
    country = country if country in countries() else None
    region = _region(c, country)
    language = c.get("language", required=True)
    locale = LANGUAGES.get(language.casefold().replace("_", "-"))
    if language and locale is None:
        c.bad("language", "unsupported_language")
    phone, numbered_zones = _phone(c, country)
    zone = _timezone(c, country, numbered_zones)
    email = c.get("email", max_length=254) or None
    if email and not EMAIL.fullmatch(email):
        c.bad("email", "invalid_email")
    currency: str | None = c.get("currency", required=True).upper()
    if currency and currency not in currencies():
        c.bad("currency", "unknown_currency")
        currency = None
    amounts = tuple(
        (kind, c.amount(kind, currency, required=kind == "principal")) for kind in ("principal", "fees", "interest")
    )
    if not c.problems and sum(a for _, a in amounts) <= 0:
        c.bad("principal", "nothing_owed")
    due = c.iso_date("due_date")
    sms, whatsapp = c.yes_no("sms_consent"), c.yes_no("whatsapp_opt_in")
    debtor_id = None
    if raw_id := c.get("debtor_id"):
        if raw_id.isdigit() and 0 < int(raw_id) < 2**31:
            debtor_id = int(raw_id)
        else:
            c.bad("debtor_id", "invalid_id")
    if c.problems or not (born and country and locale and currency and due):
        return c.problems
    return Row(
        line=line, creditor=creditor, reference=reference, name=f"{first} {last}", date_of_birth=born,
        country=country, region=region, locale=locale, timezone=zone, phone=phone, email=email, currency=currency, due_date=due,
        amounts=amounts, sms_consent=sms, whatsapp_opt_in=whatsapp, debtor_id=debtor_id,
    )  # fmt: skip
