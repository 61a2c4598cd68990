"""config/reminders.yml: lead times, contact windows per jurisdiction (the debtor's country, in
their own time zone, DST-safe), public holidays (the `holidays` package, by country and region:
people/jurisdiction) and frequency caps. Loaded once per process (`load`), parsed by `parse`."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from core.config import ROOT
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction

CONFIG = ROOT / "config" / "reminders.yml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 31  # how far ahead a next contact window is looked for


def wall_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in `zone` shows `day` `at` or later.

    A wall time that does not exist (skipped by a spring-forward change, e.g. 02:30 in Stockholm
    on the last Sunday of March) maps to the moment the clock jumps, 03:00 local. One that exists
    twice (fall-back) maps to its first occurrence."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first  # exists (fold=0 is the earlier of two occurrences)
    # In a gap: fold=1 gives an instant before the jump, fold=0 one after it. The jump is the
    # first instant after `low` whose local time is past the requested wall time.
    low, high = naive.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0) if high.microsecond else high


@dataclass(frozen=True)
class Cap:
    max: int
    window: timedelta


@dataclass(frozen=True)
class ContactPolicy:
    """When and how often a jurisdiction's debtors may be contacted; `holidays` is filled in per
    debtor (their country's and region's public holidays) by `ReminderConfig.policy`."""

    windows: dict[int, tuple[time, time]]  # weekday (0 = Monday) -> [start, end) local
    holidays: Container[date] = frozenset()
    caps: tuple[Cap, ...] = ()
    public_holidays: bool = True  # False: public holidays do not stop contact (tests, a config that says so)

    def allowed(self, when: datetime, zone: ZoneInfo) -> bool:
        local = when.astimezone(zone)
        window = self.windows.get(local.weekday())
        if window is None or local.date() in self.holidays:
            return False
        return window[0] <= local.time() < window[1]

    def next_allowed(self, when: datetime, zone: ZoneInfo) -> datetime | None:
        """`when` if contact is allowed then, else the start of the next allowed window (UTC);
        None if there is none in the next month (a configuration with no contact days)."""
        if self.allowed(when, zone):
            return when
        today = when.astimezone(zone).date()
        for offset in range(SEARCH_DAYS + 1):
            day = today + timedelta(days=offset)
            window = self.windows.get(day.weekday())
            if window is None or day in self.holidays:
                continue
            start, end = wall_time(day, window[0], zone), wall_time(day, window[1], zone)
            if when < end and start < end:
                return max(when, start)
        return None


@dataclass(frozen=True)
class ReminderConfig:
    every_minutes: float
    batch_size: int
    lease: timedelta
    lead_days: dict[str, int]
    promise_broken_valid: timedelta
    fallback_channels: tuple[str, ...]
    countries: dict[str, ContactPolicy] = field(default_factory=dict)

    def policy(self, country: str | None, region: str | None = None) -> ContactPolicy:
        """A jurisdiction's windows and caps with its public holidays (and the region's). A country
        without hours here gets the deployment's default jurisdiction's rules, holidays included."""
        code = jurisdiction.for_country(country).country
        if code not in self.countries:
            code, region = jurisdiction.for_country(None, locale=None).country, None
        base = self.countries.get(code) or next(iter(self.countries.values()))
        if not base.public_holidays:
            return base
        return replace(base, holidays=jurisdiction.calendar(code, region))

    def policy_of(self, debtor: Debtor) -> ContactPolicy:
        """The contact rules for this debtor: their jurisdiction's, never their language's."""
        return self.policy(jurisdiction.country_of(debtor), jurisdiction.region_of(debtor))


def _day_keys(key: str) -> list[int]:
    first, _, last = key.strip().lower().partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"reminders: unknown day {key!r} (use mon..sun or a range like mon-fri)")
    start, stop = DAYS.index(first), DAYS.index(last or first)
    if stop < start:
        raise ValueError(f"reminders: day range {key!r} runs backwards")
    return list(range(start, stop + 1))


def _policy(country: str, raw: dict[str, Any]) -> ContactPolicy:
    windows: dict[int, tuple[time, time]] = {}
    for key, span in (raw.get("hours") or {}).items():
        if span is None:
            continue
        start, end = time.fromisoformat(str(span[0])), time.fromisoformat(str(span[1]))
        if not start < end:
            raise ValueError(f"reminders.countries.{country}.hours.{key}: start must be before end")
        for day in _day_keys(str(key)):
            windows[day] = (start, end)
    caps = []
    for cap in raw.get("caps") or []:
        window = timedelta(hours=float(cap.get("hours", 0)), days=float(cap.get("days", 0)))
        if int(cap["max"]) < 1 or window <= timedelta(0):
            raise ValueError(f"reminders.countries.{country}.caps: {cap!r} needs max >= 1 and a window")
        caps.append(Cap(max=int(cap["max"]), window=window))
    if "holidays" in raw:
        raise ValueError(
            f"reminders.countries.{country}.holidays: holidays come from the holidays package "
            "(config/jurisdictions.yml), not a list"
        )
    return ContactPolicy(windows=windows, caps=tuple(caps), public_holidays=bool(raw.get("public_holidays", True)))


def parse(raw: dict[str, Any]) -> ReminderConfig:
    kinds = raw.get("kinds") or {}
    if "locales" in raw:
        raise ValueError("reminders: contact rules are per jurisdiction now (countries:, e.g. GB), not per locale")
    countries = {
        str(code).upper(): _policy(str(code).upper(), entry or {})
        for code, entry in (raw.get("countries") or {}).items()
    }
    if not countries:
        raise ValueError("reminders: at least one country is needed")
    return ReminderConfig(
        every_minutes=float(raw.get("every_minutes", 5)),
        batch_size=int(raw.get("batch_size", 200)),
        lease=timedelta(minutes=float(raw.get("lease_minutes", 10))),
        lead_days={
            k: int((kinds.get(k) or {}).get("lead_days", 1)) for k in ("due_soon", "installment_due", "promise_due")
        },
        promise_broken_valid=timedelta(days=float((kinds.get("promise_broken") or {}).get("valid_days", 3))),
        fallback_channels=tuple(raw.get("fallback_channels") or ()),
        countries=countries,
    )


@lru_cache
def load(path: Path = CONFIG) -> ReminderConfig:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
