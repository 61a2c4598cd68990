"""Read config/collection.yml: the jurisdiction's policy (the debtor's country, never their language),
with per-creditor overrides merged over it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.config import ROOT
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction

CONFIG = ROOT / "config" / "collection.yml"


@dataclass(frozen=True)
class PlanPolicy:
    min_installment: Decimal
    max_months: int
    latest_first_date_days: int
    token_payment_in_hardship: bool
    token_min_installment: Decimal
    setup_fee: Decimal
    annual_interest_rate: Decimal


@dataclass(frozen=True)
class PromisePolicy:
    max_days_ahead: int


@dataclass(frozen=True)
class CollectionPolicy:
    allocation_order: tuple[str, ...]
    plan: PlanPolicy
    promise: PromisePolicy


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (
            _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


@lru_cache
def _raw(path: Path = CONFIG) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def policy_of(debtor: Debtor, *, creditor: str | None = None, path: Path = CONFIG) -> CollectionPolicy:
    """The policy for this debtor's case: their jurisdiction's (see people/jurisdiction)."""
    return policy_for(country=jurisdiction.country_of(debtor), creditor=creditor, path=path)


def policy_for(*, country: str | None, creditor: str | None = None, path: Path = CONFIG) -> CollectionPolicy:
    """A jurisdiction's policy (an unconfigured country: the deployment's default jurisdiction)."""
    raw = _raw(path)
    code = jurisdiction.for_country(country).country
    data = _merge(raw["defaults"], (raw.get("countries") or {}).get(code, {}))
    if creditor and creditor in (raw.get("creditors") or {}):
        data = _merge(data, raw["creditors"][creditor])
    plan = data["plan"]
    return CollectionPolicy(
        allocation_order=tuple(data["allocation_order"]),
        plan=PlanPolicy(
            min_installment=Decimal(str(plan["min_installment"])),
            max_months=int(plan["max_months"]),
            latest_first_date_days=int(plan["latest_first_date_days"]),
            token_payment_in_hardship=bool(plan["token_payment_in_hardship"]),
            token_min_installment=Decimal(str(plan["token_min_installment"])),
            setup_fee=Decimal(str(plan["setup_fee"])),
            annual_interest_rate=Decimal(str(plan["annual_interest_rate"])),
        ),
        promise=PromisePolicy(max_days_ahead=int(data["promise"]["max_days_ahead"])),
    )
