"""Sample arguments for previews: the locale's demo debtor (people/debtors/seed.py), the debt advice
and crisis line of that debtor's jurisdiction (config/jurisdictions.yml) and plausible numbers, in the shapes the actions send — so money, dates and
times come out exactly as the bot would format them (Babel, through the catalog)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from locales import Catalog
from locales.tone.service import placeholders
from people.debtors.seed import DEMO
from people.jurisdiction import service as jurisdiction

NUMBERS = {"count": 6, "number": 1, "days": 30, "minutes": 10, "limit": 1000, "max_count": 26, "max_months": 12}
NUMBERS |= {"remaining": 2}
# Placeholders filled from another catalog text (the action sends `<name>_key`).
KEYED_PREFIXES = {"channel": "channel_name_", "reason": "dispute_reason_", "hint": "dispute_hint_"}
LARGE_MONEY = ("total", "due", "max", "paid", "principal")
AUTOMATIC = {"example"}  # filled by the formatter itself


def _debts(demo: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "creditor": creditor,
            "reference": reference,
            "currency": currency,
            "due_date": due.isoformat(),
            "amount": str(sum((Decimal(amount) for _, amount, _ in parts), Decimal("0"))),
            "components": [{"kind": kind.value, "amount": amount} for kind, amount, _ in parts],
        }
        for creditor, reference, currency, due, parts in demo["debts"]
    ]


def sample_arguments(
    catalog: Catalog, *, locale: str, key: str, agent: str | None = None, today: date | None = None
) -> dict[str, Any]:
    """Arguments for every placeholder of `key` (any tone) in `locale`."""
    today = today or datetime.now(UTC).date()
    demo = next((d for d in DEMO if d["locale"] == locale), DEMO[0])
    debts = _debts(demo)
    currency = debts[0]["currency"]
    total = sum((Decimal(d["amount"]) for d in debts), Decimal("0"))
    where = jurisdiction.for_country(demo.get("country"), locale=locale)
    advice = where.advice
    crisis = jurisdiction.crisis_arguments(where)
    names: set[str] = set()
    for tone in catalog.variants(key, locale):
        names |= placeholders(catalog.default_text(key, locale, tone))
    arguments: dict[str, Any] = {}
    for name in sorted(names - AUTOMATIC):
        if name == "debts":
            arguments[name] = debts
        elif name == "totals":
            arguments[name] = [{"amount": str(total), "currency": currency}]
        elif name == "schedule":
            share = (total / 3).quantize(Decimal("0.01"))
            arguments[name] = [
                {"due_date": (today + timedelta(days=30 * i)).isoformat(), "amount": str(share), "currency": currency}
                for i in range(1, 4)
            ]
        elif name == "until":
            zone = ZoneInfo(demo["timezone"])
            arguments[name] = datetime.combine(today + timedelta(days=1), time(9), tzinfo=zone).isoformat()
            arguments["timezone"] = demo["timezone"]
        elif name.endswith("_money"):
            amount = total if name.startswith(LARGE_MONEY) else Decimal("50.00")
            arguments[name] = {"amount": str(amount), "currency": currency}
        elif name.endswith("_date"):
            shift = -7 if name.startswith("last") else 14
            arguments[name] = (today + timedelta(days=shift)).isoformat()
        elif name.endswith("_percent"):
            arguments[name] = "4.5"
        elif name in KEYED_PREFIXES:
            keys = sorted(k for k in catalog.keys(locale) if k.startswith(KEYED_PREFIXES[name]))
            arguments[f"{name}_key" if keys else name] = keys[0] if keys else f"[{name}]"
        elif name in NUMBERS:
            arguments[name] = NUMBERS[name]
        elif name in ("creditor", "reference"):
            arguments[name] = debts[0][name]
        elif name == "advice":
            arguments[name] = advice.arguments()
        elif name in crisis:
            arguments[name] = crisis[name]
        elif name == "agent" and agent:
            arguments[name] = agent
        elif name == "name":
            arguments[name] = advice.name
        elif name == "phone" and advice.phone:
            arguments[name] = advice.phone
        elif name == "url":
            arguments[name] = (
                advice.url if key.startswith("hardship_") and advice.url else "https://pay.example.org/demo"
            )
        else:
            arguments[name] = f"[{name}]"
    return arguments
