"""config/outreach.yml: the first-contact cadence per jurisdiction. Loaded once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.config import ROOT

CONFIG = ROOT / "config" / "outreach.yml"
CHANNELS = ("sms", "whatsapp", "call_list")
SMS_RULES = ("allowed", "consent", "never")


@dataclass(frozen=True)
class Step:
    day: int
    channel: str


@dataclass(frozen=True)
class Cadence:
    sms: str  # allowed | consent | never
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class OutreachConfig:
    every_minutes: float
    batch_size: int
    token_valid: timedelta
    outcome_window: timedelta
    countries: dict[str, Cadence] = field(default_factory=dict)

    def cadence(self, country: str | None) -> Cadence | None:
        return self.countries.get((country or "").upper())


def _cadence(code: str, raw: dict[str, Any]) -> Cadence:
    sms = str(raw.get("sms", "allowed"))
    if sms not in SMS_RULES:
        raise ValueError(f"outreach.countries.{code}.sms: {sms!r} is not one of {', '.join(SMS_RULES)}")
    steps: list[Step] = []
    for entry in raw.get("steps") or []:
        step = Step(day=int(entry["day"]), channel=str(entry["channel"]))
        if step.channel not in CHANNELS:
            raise ValueError(f"outreach.countries.{code}.steps: unknown channel {step.channel!r}")
        if step.day < 0 or (steps and step.day < steps[-1].day):
            raise ValueError(f"outreach.countries.{code}.steps: days must not go backwards ({step.day})")
        steps.append(step)
    if not steps:
        raise ValueError(f"outreach.countries.{code}: at least one step is needed")
    return Cadence(sms=sms, steps=tuple(steps))


def parse(raw: dict[str, Any]) -> OutreachConfig:
    countries = {
        str(code).upper(): _cadence(str(code), entry or {}) for code, entry in (raw.get("countries") or {}).items()
    }
    return OutreachConfig(
        every_minutes=float(raw.get("every_minutes", 5)),
        batch_size=int(raw.get("batch_size", 200)),
        token_valid=timedelta(hours=float(raw.get("token_valid_hours", 72))),
        outcome_window=timedelta(days=float(raw.get("outcome_days", 30))),
        countries=countries,
    )


@lru_cache
def load(path: Path = CONFIG) -> OutreachConfig:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
