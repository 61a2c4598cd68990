"""Every text the plan and promise flows use exists in every locale and renders completely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from locales import SUPPORTED_LOCALES, Catalog
from locales.catalog import TONES
from money.arrangements.schedule import Reason

ROOT = Path(__file__).resolve().parents[3]
catalog = Catalog()
MONEY = {"amount": "612.45", "currency": "GBP"}
ARGUMENTS = {
    "count": 3, "max_months": 12, "max_count": 52, "number": 1, "reference": "UK-300552", "url": "https://pay.test/1",
    "rate_percent": "5", "amount": "60.00", "schedule": [{"due_date": "2026-12-01", "amount": "60.00", "currency": "GBP"}],
    **{f"{name}_money": MONEY for name in ("example", "total", "next", "min", "amount", "principal", "fee", "interest",
                                          "cost", "first", "max")},
    **{f"{name}_date": "2026-12-01" for name in ("next", "latest", "first", "due")},
}  # fmt: skip


def used_keys() -> set[str]:
    """Responses named by the domain fragment and by the code of both flows."""
    domain = yaml.safe_load((ROOT / "bot" / "domain" / "arrangements.yml").read_text(encoding="utf-8"))
    keys = {a for a in domain["actions"] if a.startswith("utter_")}
    for path in (ROOT / "money" / "arrangements" / "replies.py", ROOT / "bot" / "actions" / "arrangements.py"):
        keys |= set(re.findall(r'"(utter_[a-z_]+)"', path.read_text(encoding="utf-8")))
    keys |= {f"utter_plan_reason_{reason.value}" for reason in Reason}
    keys |= {"plan_schedule_line", "plan_installment_description"}
    # replies.read_date builds its problem keys from a prefix.
    prefixes = {"utter_plan_first_date": ("_invalid", "_past"), "utter_promise_date": ("_invalid", "_past", "_too_far")}
    for prefix, endings in prefixes.items():
        keys |= {prefix + ending for ending in endings}
    return keys - set(prefixes) - {"utter_no_open_debts"}  # that one is in messages.yml


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_text_exists_and_renders_completely(locale: str) -> None:
    keys = used_keys()
    assert {"utter_plan_summary", "utter_promise_recorded", "utter_plan_reason_too_long"} <= keys
    for key in sorted(keys):
        assert catalog.has(key, locale), (locale, key)
        for tone in TONES:
            text = catalog.render(key, locale, tone, ARGUMENTS).text
            assert "{" not in text and text.strip(), (locale, key, tone, text)


def test_summary_shows_schedule_and_every_cost_formatted() -> None:
    text = catalog.render("utter_plan_summary", "de", "formal", ARGUMENTS).text.replace("\xa0", " ")
    assert "• 01.12.2026: 60,00 £" in text and "5 % p. a." in text
    assert text.count("612,45 £") == 5  # owed, setup fee, interest, total cost, total to pay
