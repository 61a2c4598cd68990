"""config/jurisdictions.yml: the supported jurisdictions, the crisis line and debt advice of each,
how their public holidays are chosen, and the default for rows without a country."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package
import yaml

from core.config import ROOT

CONFIG = ROOT / "config" / "jurisdictions.yml"


@dataclass(frozen=True)
class Contact:
    """An organisation people can reach: its name and whatever contact the config has."""

    name: str
    phone: str | None = None
    url: str | None = None

    def arguments(self) -> dict[str, str | None]:
        return {"name": self.name, "phone": self.phone, "url": self.url}


@dataclass(frozen=True)
class Jurisdiction:
    country: str  # ISO 3166-1 alpha-2
    timezone: str  # where no debtor's own zone is known
    currency: str  # ISO 4217, the currency of the debts placed there
    crisis: Contact
    emergency: str  # the emergency number
    advice: Contact  # free debt advice
    holiday_categories: tuple[str, ...] = ("public",)
    default_region: str | None = None


@dataclass(frozen=True)
class JurisdictionConfig:
    countries: dict[str, Jurisdiction]
    locale_countries: dict[str, str]
    default_country: str


def _contact(raw: Any, where: str) -> Contact:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ValueError(f"config/jurisdictions.yml: {where} needs a name")
    return Contact(name=str(raw["name"]), phone=raw.get("phone") or None, url=raw.get("url") or None)


def _jurisdiction(country: str, raw: dict[str, Any]) -> Jurisdiction:
    if country not in holidays_package.list_supported_countries():
        raise ValueError(f"config/jurisdictions.yml: {country} is not a country the holidays package knows")
    try:
        ZoneInfo(str(raw["timezone"]))
    except (KeyError, ZoneInfoNotFoundError) as exc:
        raise ValueError(f"config/jurisdictions.yml: {country}.timezone must be an IANA zone") from exc
    days = raw.get("holidays") or {}
    crisis = raw.get("crisis") or {}
    if not crisis.get("emergency"):
        raise ValueError(f"config/jurisdictions.yml: {country}.crisis needs an emergency number")
    return Jurisdiction(
        country=country,
        timezone=str(raw["timezone"]),
        currency=str(raw["currency"]).upper(),
        crisis=_contact(crisis, f"{country}.crisis"),
        emergency=str(crisis["emergency"]),
        advice=_contact(raw.get("advice"), f"{country}.advice"),
        holiday_categories=tuple(days.get("categories") or ("public",)),
        default_region=days.get("default_region"),
    )


def parse(raw: dict[str, Any]) -> JurisdictionConfig:
    countries = {
        str(code).upper(): _jurisdiction(str(code).upper(), entry or {}) for code, entry in raw["countries"].items()
    }
    default = str(raw.get("default_country") or "").upper()
    if default not in countries:
        raise ValueError("config/jurisdictions.yml: default_country must be one of the countries")
    mapping = {str(locale): str(code).upper() for locale, code in (raw.get("locale_countries") or {}).items()}
    unknown = sorted(set(mapping.values()) - set(countries))
    if unknown:
        raise ValueError(f"config/jurisdictions.yml: locale_countries names unconfigured {unknown}")
    return JurisdictionConfig(countries=countries, locale_countries=mapping, default_country=default)


@lru_cache
def load(path: Path = CONFIG) -> JurisdictionConfig:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))
