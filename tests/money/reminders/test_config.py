"""Contact windows of a jurisdiction in the debtor's own time zone: across zones, on DST change days
(spring forward, fall back, a window starting inside the skipped hour), public holidays from the
`holidays` package (national and regional) and rest days; bad configuration."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from money.reminders.config import ContactPolicy, load, parse, wall_time

LONDON, STOCKHOLM, SAO_PAULO, BERLIN = (
    ZoneInfo(z) for z in ("Europe/London", "Europe/Stockholm", "America/Sao_Paulo", "Europe/Berlin")
)
EVERY_DAY = ContactPolicy(windows={d: (time(8), time(21)) for d in range(7)})
config = load()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_same_instant_is_inside_hours_in_one_zone_and_outside_in_another() -> None:
    now = utc(2026, 11, 26, 7, 30)  # a Thursday: 07:30 in London, 08:30 in Stockholm, 04:30 in São Paulo
    assert not config.policy("GB").allowed(now, LONDON)
    assert config.policy("GB").next_allowed(now, LONDON) == utc(2026, 11, 26, 8, 0)
    assert config.policy("SE").allowed(now, STOCKHOLM)
    assert config.policy("SE").next_allowed(now, STOCKHOLM) == now
    assert config.policy("BR").next_allowed(now, SAO_PAULO) == utc(2026, 11, 26, 11, 0)


def test_window_end_is_exclusive_and_evening_moves_to_the_next_morning() -> None:
    en = config.policy("GB")  # 08:00–21:00 Monday–Saturday
    assert en.allowed(utc(2026, 11, 26, 20, 59), LONDON)
    assert not en.allowed(utc(2026, 11, 26, 21, 0), LONDON)
    assert en.next_allowed(utc(2026, 11, 26, 21, 0), LONDON) == utc(2026, 11, 27, 8, 0)


def test_london_spring_forward_moves_the_morning_an_hour_earlier_in_utc() -> None:
    # 2027-03-28: clocks go 01:00 GMT -> 02:00 BST.
    assert EVERY_DAY.next_allowed(utc(2027, 3, 27, 6, 0), LONDON) == utc(2027, 3, 27, 8, 0)  # 08:00 GMT
    assert EVERY_DAY.next_allowed(utc(2027, 3, 28, 0, 30), LONDON) == utc(2027, 3, 28, 7, 0)  # 08:00 BST
    assert EVERY_DAY.allowed(utc(2027, 3, 28, 19, 59), LONDON)  # 20:59 BST
    assert not EVERY_DAY.allowed(utc(2027, 3, 28, 20, 0), LONDON)  # 21:00 BST
    # The shipped British policy rests on Sundays and bank holidays (Easter Monday is the 29th):
    # Saturday night -> Tuesday 08:00 BST.
    assert config.policy("GB").next_allowed(utc(2027, 3, 27, 21, 30), LONDON) == utc(2027, 3, 30, 7, 0)


def test_london_fall_back_moves_the_morning_an_hour_later_in_utc() -> None:
    # 2026-10-25: clocks go 02:00 BST -> 01:00 GMT.
    assert EVERY_DAY.next_allowed(utc(2026, 10, 24, 5, 0), LONDON) == utc(2026, 10, 24, 7, 0)  # 08:00 BST
    assert EVERY_DAY.next_allowed(utc(2026, 10, 25, 0, 30), LONDON) == utc(2026, 10, 25, 8, 0)  # 08:00 GMT
    assert not EVERY_DAY.allowed(utc(2026, 10, 25, 7, 30), LONDON)  # 07:30 GMT, though 08:30 by summer time
    assert EVERY_DAY.allowed(utc(2026, 10, 25, 20, 30), LONDON)  # 20:30 GMT


def test_stockholm_window_opening_inside_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    night = ContactPolicy(windows={d: (time(2, 30), time(4, 0)) for d in range(7)})
    # 2027-03-28 02:00 CET -> 03:00 CEST at 01:00 UTC: 02:30 never happens that night.
    assert wall_time(date(2027, 3, 28), time(2, 30), STOCKHOLM) == utc(2027, 3, 28, 1, 0)
    assert night.next_allowed(utc(2027, 3, 27, 23, 0), STOCKHOLM) == utc(2027, 3, 28, 1, 0)
    assert night.allowed(utc(2027, 3, 28, 1, 30), STOCKHOLM)  # 03:30 CEST
    assert not night.allowed(utc(2027, 3, 28, 2, 0), STOCKHOLM)  # 04:00 CEST
    # 2027-10-31 03:00 CEST -> 02:00 CET: 02:30 happens twice; the window opens at the first.
    assert wall_time(date(2027, 10, 31), time(2, 30), STOCKHOLM) == utc(2027, 10, 31, 0, 30)
    assert night.next_allowed(utc(2027, 10, 30, 23, 0), STOCKHOLM) == utc(2027, 10, 31, 0, 30)


def test_sao_paulo_has_no_dst_now_but_its_last_spring_forward_is_handled() -> None:
    pt = config.policy("BR")
    # Brazil dropped DST in 2019: 08:00 is 11:00 UTC in January and in July.
    assert pt.next_allowed(utc(2027, 1, 14, 3, 0), SAO_PAULO) == utc(2027, 1, 14, 11, 0)
    assert pt.next_allowed(utc(2027, 7, 15, 3, 0), SAO_PAULO) == utc(2027, 7, 15, 11, 0)
    # 2018-11-04 00:00 -03 became 01:00 -02: midnight did not exist; a window from 00:00 opens at the jump.
    midnight = ContactPolicy(windows={d: (time(0, 0), time(6, 0)) for d in range(7)})
    assert midnight.next_allowed(utc(2018, 11, 3, 20, 0), SAO_PAULO) == utc(2018, 11, 4, 3, 0)
    assert midnight.allowed(utc(2018, 11, 4, 3, 0), SAO_PAULO)


def test_holidays_and_rest_days_are_skipped() -> None:
    de = config.policy("DE")  # Monday–Saturday; 25 and 26 December are holidays, 27th a Sunday
    assert de.next_allowed(utc(2026, 12, 25, 9, 0), BERLIN) == utc(2026, 12, 28, 7, 0)
    pt = config.policy("BR")  # Saturdays 08:00–14:00 only
    assert pt.next_allowed(utc(2026, 11, 28, 18, 0), SAO_PAULO) == utc(2026, 11, 30, 11, 0)
    sv = config.policy("SE")  # weekdays only; midsummer eve is off
    assert sv.next_allowed(utc(2027, 6, 25, 8, 0), STOCKHOLM) == utc(2027, 6, 28, 6, 0)


def test_no_contact_day_at_all_means_none() -> None:
    assert ContactPolicy(windows={}).next_allowed(utc(2026, 11, 26, 12, 0), LONDON) is None


def test_every_jurisdiction_has_hours_and_caps() -> None:
    assert set(config.countries) == {"GB", "SE", "DE", "BR"}
    for policy in config.countries.values():
        assert policy.windows and policy.caps
        assert all(start >= time(8) and end <= time(21) for start, end in policy.windows.values())


@pytest.mark.parametrize(
    "hours",
    [{"mon-xyz": ["08:00", "20:00"]}, {"fri-mon": ["08:00", "20:00"]}, {"mon": ["20:00", "08:00"]}],
)
def test_bad_hours_are_refused(hours: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match="reminders"):
        parse({"countries": {"GB": {"hours": hours}}})


def test_bad_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="caps"):
        parse({"countries": {"GB": {"hours": {"mon": ["08:00", "20:00"]}, "caps": [{"max": 0, "days": 1}]}}})


def test_per_locale_rules_and_typed_holidays_are_refused() -> None:
    # Contact rules are the law of the debtor's country, not of the language: an old config says so.
    with pytest.raises(ValueError, match="per jurisdiction"):
        parse({"locales": {"en": {"hours": {"mon": ["08:00", "20:00"]}}}})
    with pytest.raises(ValueError, match="holidays package"):
        parse({"countries": {"GB": {"hours": {"mon": ["08:00", "20:00"]}, "holidays": ["2026-12-25"]}}})


def test_holidays_come_from_the_package_for_any_year() -> None:
    # No list typed by hand that ends: Christmas 2031 and Easter Monday 2035 are known.
    assert not config.policy("GB").allowed(utc(2031, 12, 25, 12, 0), LONDON)
    assert not config.policy("GB").allowed(utc(2035, 3, 26, 12, 0), LONDON)  # Easter Monday 2035
    assert config.policy("GB").allowed(utc(2035, 3, 27, 12, 0), LONDON)


def test_regional_holidays_apply_only_in_that_region() -> None:
    # 6 January 2027 is a Wednesday: Heilige Drei Könige in Bavaria, a working day in Berlin.
    epiphany = utc(2027, 1, 6, 10, 0)
    assert not config.policy("DE", "BY").allowed(epiphany, BERLIN)
    assert config.policy("DE", "BY").next_allowed(epiphany, BERLIN) == utc(2027, 1, 7, 7, 0)
    assert config.policy("DE", "BE").allowed(epiphany, BERLIN)
    assert config.policy("DE").allowed(epiphany, BERLIN)
    # Scotland's 2 January is not a bank holiday in England (2026-01-02 is a Friday).
    assert not config.policy("GB", "SCT").allowed(utc(2026, 1, 2, 12, 0), LONDON)
    assert config.policy("GB").allowed(utc(2026, 1, 2, 12, 0), LONDON)


def test_an_unknown_region_falls_back_to_the_nationwide_holidays() -> None:
    assert config.policy("DE", "XX").allowed(utc(2027, 1, 6, 10, 0), BERLIN)
    assert not config.policy("DE", "XX").allowed(utc(2027, 5, 6, 10, 0), BERLIN)  # Christi Himmelfahrt


def test_each_jurisdiction_rests_on_its_own_holidays() -> None:
    # 2026-11-20, a Friday: Brazil's Dia da Consciência Negra, a working day elsewhere.
    day = utc(2026, 11, 20, 14, 0)
    assert not config.policy("BR").allowed(day, SAO_PAULO)
    assert config.policy("SE").allowed(day, STOCKHOLM)
    assert config.policy("DE").allowed(day, BERLIN)
    # 2026-06-19, a Friday: Midsommarafton (Sweden, de facto), a working day in Germany.
    assert not config.policy("SE").allowed(utc(2026, 6, 19, 10, 0), STOCKHOLM)
    assert config.policy("DE").allowed(utc(2026, 6, 19, 10, 0), BERLIN)
    # 2026-10-03 is a Saturday, Tag der Deutschen Einheit: no contact in Germany although Saturdays are open.
    assert not config.policy("DE").allowed(utc(2026, 10, 3, 10, 0), BERLIN)
    assert config.policy("DE").allowed(utc(2026, 10, 10, 10, 0), BERLIN)


def test_an_unconfigured_country_gets_the_default_jurisdictions_rules() -> None:
    assert config.policy("FR").windows == config.policy("GB").windows
    assert not config.policy("FR").allowed(utc(2026, 12, 28, 12, 0), LONDON)  # Boxing Day (observed)
