"""config/privacy.yml (retention periods per jurisdiction: the debtor's country) and the key for keyed hashes of erased data.

The hash key is a secret kept out of the database on purpose: phone numbers and case references
have so few possible values that a plain (or database-salted) hash of them can be reversed by
trying them all. With the key elsewhere, a leaked database does not reveal an erased address.
Every process (gateway, inbox worker, action server) must use the same key: set
`PRIVACY_HASH_KEY` in production (docker-compose), else a random key is created once in
`var/privacy-hash-key` (or `PRIVACY_HASH_KEY_FILE`). Losing the key means erased opt-outs no
longer match (see people/gdpr/suppression.py).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.config import ROOT

CONFIG = ROOT / "config" / "privacy.yml"
DEFAULT_KEY_FILE = ROOT / "var" / "privacy-hash-key"


@dataclass(frozen=True)
class Retention:
    transcript_days: int
    bookkeeping_years: int
    law: str


@dataclass(frozen=True)
class PrivacyConfig:
    transcript_days: int  # fallback for conversations of nobody identified (or an unconfigured country)
    every_hours: float
    first_run_minutes: float
    countries: dict[str, Retention]  # per jurisdiction (ISO 3166-1 alpha-2)

    def for_country(self, country: str | None) -> Retention | None:
        return self.countries.get((country or "").upper())

    def transcript_days_for(self, country: str | None) -> int:
        found = self.for_country(country)
        return found.transcript_days if found else self.transcript_days

    def retain_ledger_until(self, country: str | None, last_booking: date) -> date | None:
        """The last day the kept bookkeeping records of a debtor must exist, by their jurisdiction's
        law (None: no rule configured)."""
        found = self.for_country(country)
        if found is None:
            return None
        return date(last_booking.year + found.bookkeeping_years, 12, 31)


def _positive(raw: Any, name: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
        raise ValueError(f"config/privacy.yml: {name} must be a positive whole number, got {raw!r}")
    return raw


def parse(raw: dict[str, Any]) -> PrivacyConfig:
    default_days = _positive(raw.get("transcript_retention_days"), "transcript_retention_days")
    if "locales" in raw:
        raise ValueError("config/privacy.yml: retention is per jurisdiction (countries:, e.g. GB), not per locale")
    countries = {}
    for country, entry in (raw.get("countries") or {}).items():
        code = str(country).upper()
        countries[code] = Retention(
            transcript_days=_positive(
                entry.get("transcript_retention_days", default_days), f"{code}.transcript_retention_days"
            ),
            bookkeeping_years=_positive(entry.get("bookkeeping_years"), f"{code}.bookkeeping_years"),
            law=str(entry.get("law") or ""),
        )
    return PrivacyConfig(
        transcript_days=default_days,
        every_hours=float(_positive(raw.get("retention_every_hours", 24), "retention_every_hours")),
        first_run_minutes=float(raw.get("retention_first_run_minutes", 5)),
        countries=countries,
    )


@lru_cache
def load(path: Path = CONFIG) -> PrivacyConfig:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def _key_file() -> Path:
    return Path(os.environ.get("PRIVACY_HASH_KEY_FILE") or DEFAULT_KEY_FILE)


@lru_cache
def hash_key() -> bytes:
    """The installation's secret for keyed hashes (HMAC-SHA256) of erased identifiers."""
    configured = os.environ.get("PRIVACY_HASH_KEY", "").strip()
    if configured:
        return configured.encode()
    path = _key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:  # link is atomic: two processes starting at once agree on one complete key
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: restore the privacy hash key or set PRIVACY_HASH_KEY")
    return key.encode()
