"""config/handoff.yml: agents' working hours per locale (the agency's team for a language),
reply promises, and hardship options per jurisdiction (the debtor's country: people/jurisdiction).
Loaded once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

CONFIG = Path(__file__).resolve().parent.parent / "config" / "handoff.yml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Hours:
    timezone: ZoneInfo
    days: frozenset[int]  # 0 = Monday
    open: time
    close: time

    def is_open(self, when: datetime) -> bool:
        local = when.astimezone(self.timezone)
        return local.weekday() in self.days and self.open <= local.time() < self.close

    def next_open(self, when: datetime) -> datetime:
        """`when` itself if within hours, else the start of the next working period (UTC)."""
        if self.is_open(when):
            return when
        local = when.astimezone(self.timezone)
        for offset in range(0, 8):
            day = (local + timedelta(days=offset)).date()
            start = datetime.combine(day, self.open, tzinfo=self.timezone)
            if day.weekday() in self.days and start > local:
                return start.astimezone(UTC)
        raise ValueError("no working day configured")


@dataclass(frozen=True)
class HardshipConfig:
    pause_days: int
    options: tuple[str, ...]
    breathing_space_days: int | None = None


@dataclass(frozen=True)
class HandoffConfig:
    presence_seconds: int
    reply_minutes_online: int
    reply_minutes_offline: int
    waiting_notice_minutes: int
    outcomes: tuple[str, ...]
    hours: dict[str, Hours]
    hardship: dict[str, HardshipConfig]  # per country (ISO 3166-1 alpha-2)
    # How long a verification stays current for the console, per channel ("default" for the rest).
    verification_idle_minutes: dict[str, int] = field(default_factory=lambda: {"default": 60})

    def verification_idle(self, channel: str) -> timedelta:
        minutes = self.verification_idle_minutes
        return timedelta(minutes=minutes.get(channel, minutes.get("default", 60)))

    def hours_for(self, locale: str | None) -> Hours:
        return self.hours.get(locale or "", next(iter(self.hours.values())))

    def hardship_for(self, country: str) -> HardshipConfig:
        """A jurisdiction's options (callers resolve the country: people/jurisdiction)."""
        found = self.hardship.get(country.upper())
        if found is None:
            raise KeyError(f"config/handoff.yml: no hardship options for {country!r}")
        return found


def _hours(raw: dict[str, Any]) -> Hours:
    return Hours(
        timezone=ZoneInfo(raw["timezone"]),
        days=frozenset(DAYS.index(d) for d in raw["days"]),
        open=time.fromisoformat(raw["open"]),
        close=time.fromisoformat(raw["close"]),
    )


def _hardship(raw: dict[str, Any]) -> HardshipConfig:
    return HardshipConfig(
        pause_days=int(raw["pause_days"]),
        options=tuple(raw["options"]),
        breathing_space_days=raw.get("breathing_space_days"),
    )


def parse(raw: dict[str, Any]) -> HandoffConfig:
    locales: dict[str, Any] = raw["locales"]
    return HandoffConfig(
        presence_seconds=int(raw["presence_seconds"]),
        reply_minutes_online=int(raw["reply_minutes_online"]),
        reply_minutes_offline=int(raw["reply_minutes_offline"]),
        waiting_notice_minutes=int(raw["waiting_notice_minutes"]),
        outcomes=tuple(raw["outcomes"]),
        hours={locale: _hours(entry["hours"]) for locale, entry in locales.items()},
        hardship={str(code).upper(): _hardship(entry["hardship"]) for code, entry in raw["countries"].items()},
        verification_idle_minutes={
            str(k): int(v) for k, v in (raw.get("verification_idle_minutes") or {"default": 60}).items()
        },
    )


@lru_cache
def load(path: Path = CONFIG) -> HandoffConfig:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))
