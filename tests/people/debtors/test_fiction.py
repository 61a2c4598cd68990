"""Demo phone numbers come only from ranges reserved for fiction (issue 14 point 7): the demo
debtors, the README, the docs and .env.example. A number made up to look real may be someone's."""

from __future__ import annotations

import re
from pathlib import Path

import phonenumbers
import pytest

from people.debtors.fiction import FICTION_RANGES, fiction_range
from people.debtors.seed import DEMO

ROOT = Path(__file__).resolve().parents[3]
# "+<country code> ..." with at least eight digits: how a phone number is written in our texts.
WRITTEN_NUMBER = re.compile(r"\+\d[\d ()\-]{6,}\d")
TEXTS = [
    ROOT / "README.md",
    ROOT / ".env.example",
    ROOT / "people" / "debtors" / "seed.py",
    *sorted((ROOT / "docs").glob("*.md")),
]


@pytest.mark.parametrize("row", DEMO, ids=[row["reference"] for row in DEMO])
def test_every_demo_phone_number_is_reserved_for_fiction(row: dict) -> None:
    if row["phone"] is None:
        assert row["locale"] == "pt-BR"  # Anatel reserves no range: no number rather than a real one
        return
    number = phonenumbers.parse(row["phone"])
    assert phonenumbers.is_possible_number(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert e164 == row["phone"]
    found = fiction_range(e164)
    assert found is not None, f"{row['name']}: {e164} is not in a range reserved for fiction"
    assert found.country == phonenumbers.region_code_for_country_code(number.country_code)


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_phone_numbers_in_docs_are_reserved_for_fiction(path: Path) -> None:
    for written in WRITTEN_NUMBER.findall(path.read_text(encoding="utf-8")):
        number = phonenumbers.parse(written)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert fiction_range(e164) is not None, f"{path.name}: {written} may belong to someone"


@pytest.mark.parametrize(
    ("number", "fictional"),
    [
        ("+46 70 174 06 05", True),
        ("+46 70 174 06 99", True),
        ("+46 70 174 06 04", False),
        ("+46701234567", False),  # the old demo number: looks like anyone's mobile
        ("+44 7700 900000", True),
        ("+44 7700 901000", False),
        ("+49 30 23125 000", True),
        ("+49 152 28817386", True),
        ("+4915112345678", False),
        ("+1 202 555 0142", True),
        ("+1 202 555 0200", False),
        ("+5511987654321", False),
    ],
)
def test_the_ranges(number: str, fictional: bool) -> None:
    assert (fiction_range(number) is not None) is fictional
    parsed = phonenumbers.parse(number)
    assert phonenumbers.is_possible_number(parsed)


def test_each_range_names_its_source() -> None:
    assert all(r.source and r.country in {"GB", "SE", "DE", "US"} for r in FICTION_RANGES)
