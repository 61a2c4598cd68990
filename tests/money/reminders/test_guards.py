"""The contact-hour guard takes a debtor and goes by their jurisdiction (country, region) and their
own time zone: what first-contact outreach and reminders both ask before contacting anyone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from money.reminders import guards
from money.reminders.config import load
from people.debtors.models import Debtor


def debtor(country: str | None, locale: str, timezone: str, region: str | None = None) -> Debtor:
    return Debtor(
        reference=f"GU-{uuid.uuid4().hex[:10]}", name="Gil Guard", date_of_birth=date(1980, 1, 1),
        locale=locale, timezone=timezone, country=country, region=region,
    )  # fmt: skip


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("locale", ["en", "sv", "de", "pt-BR"])
def test_a_german_case_has_german_hours_and_holidays_in_any_language(locale: str) -> None:
    jonas = debtor("DE", locale, "Europe/Berlin")
    # Saturday 3 October 2026, Tag der Deutschen Einheit: Saturdays are open, that one is not.
    assert not guards.contact_allowed(debtor=jonas, when=utc(2026, 10, 3, 10, 0))
    assert guards.next_contact(debtor=jonas, when=utc(2026, 10, 3, 10, 0)) == utc(2026, 10, 5, 6, 0)  # Mon 08:00 CEST
    # German hours end at 20:00 Berlin time (British ones at 21:00).
    assert not guards.contact_allowed(debtor=jonas, when=utc(2026, 11, 26, 19, 30))  # 20:30 CET
    assert guards.contact_allowed(debtor=jonas, when=utc(2026, 11, 26, 18, 30))


def test_a_british_case_writing_german_has_british_rules() -> None:
    emily = debtor("GB", "de", "Europe/London")
    assert guards.contact_allowed(debtor=emily, when=utc(2026, 10, 3, 10, 0))  # an ordinary Saturday there
    assert guards.contact_allowed(debtor=emily, when=utc(2026, 11, 26, 20, 30))  # 20:30 GMT < 21:00
    assert not guards.contact_allowed(debtor=emily, when=utc(2026, 12, 28, 12, 0))  # Boxing Day (observed)


def test_the_region_adds_its_holidays_in_the_debtors_time_zone() -> None:
    epiphany = utc(2027, 1, 6, 10, 0)
    assert not guards.contact_allowed(debtor=debtor("DE", "en", "Europe/Berlin", region="BY"), when=epiphany)
    assert guards.contact_allowed(debtor=debtor("DE", "en", "Europe/Berlin", region="NW"), when=epiphany)
    # A Bavarian case living in New York: 5 January 23:30 local is before the holiday there, but
    # contact hours are over; the next moment skips the 6th (a holiday where they are, too).
    abroad = debtor("DE", "en", "America/New_York", region="BY")
    assert guards.next_contact(debtor=abroad, when=utc(2027, 1, 6, 4, 30)) == utc(2027, 1, 7, 13, 0)


def test_the_guard_uses_the_given_config_or_the_shipped_one() -> None:
    anna = debtor("SE", "en", "Europe/Stockholm")
    assert guards.contact_policy(debtor=anna) == guards.contact_policy(debtor=anna, config=load())
    assert 5 not in guards.contact_policy(debtor=anna).windows  # no Saturdays in Sweden
