"""Every locale says everything, with the same placeholders and buttons, formatted by Babel."""

from __future__ import annotations

import re
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest

from locales import SUPPORTED_LOCALES, Catalog, resolve_locale
from locales.catalog import LOCALES_DIR, TONES

catalog = Catalog()
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def entries(locale: str) -> dict:
    import yaml

    merged: dict = {}
    for path in sorted((LOCALES_DIR / locale).glob("*.yml")):
        if path.name != "locale.yml":  # page labels live in pages/ (tests/core/test_pages.py)
            merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_same_keys_tones_placeholders_and_payloads_as_english(locale: str) -> None:
    english, other = entries("en"), entries(locale)
    assert set(other) == set(english)
    for key, value in english.items():
        if isinstance(value, str):
            assert isinstance(other[key], str), key
            assert set(PLACEHOLDER.findall(other[key])) == set(PLACEHOLDER.findall(value)), key
            continue
        for tone in TONES:
            assert other[key][tone].strip(), (key, tone)
            assert set(PLACEHOLDER.findall(other[key][tone])) == set(PLACEHOLDER.findall(value[tone])), (key, tone)
        assert [b["payload"] for b in other[key].get("buttons", [])] == [b["payload"] for b in value.get("buttons", [])]


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "expected"),
    [
        ("sv", "4250.00", "SEK", "4 250,00 kr"),
        ("de", "408.40", "EUR", "408,40 €"),
        ("en", "612.45", "GBP", "£612.45"),
        ("pt-BR", "1250.00", "BRL", "R$ 1.250,00"),
    ],
)
def test_totals_are_formatted_for_the_locale(locale: str, amount: str, currency: str, expected: str) -> None:
    text = catalog.render("balance_total_line", locale, None, {"amount": "{amount}"}).text
    rendered = catalog.render(
        "utter_balance", locale, None, {"debts": [], "totals": [{"amount": Decimal(amount), "currency": currency}]}
    ).text
    assert text.replace("{amount}", expected) in rendered.replace("\xa0", " ")


def test_tones_differ_and_default_is_empathetic() -> None:
    for locale in SUPPORTED_LOCALES:
        assert catalog.config(locale).default_tone == "empathetic"
        assert catalog.text("utter_greet", locale, "formal") != catalog.text("utter_greet", locale, "empathetic")
        assert catalog.text("utter_greet", locale) == catalog.text("utter_greet", locale, "empathetic")


def test_unknown_placeholder_does_not_crash() -> None:
    assert "{name}" in catalog.render("utter_verified", "en").text


@pytest.mark.parametrize(
    ("tag", "code"),
    [("pt", "pt-BR"), ("pt_br", "pt-BR"), ("sv-SE", "sv"), ("de-AT", "de"), ("en-US", "en"), ("fr", None), ("", None)],
)
def test_resolve_locale(tag: str, code: str | None) -> None:
    assert resolve_locale(tag) == code


def test_edited_text_is_live_without_restart(tmp_path: Path) -> None:
    root = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    live = Catalog(root)
    before = live.text("utter_goodbye", "en")
    path = root / "en" / "messages.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(before, "See you soon!"), encoding="utf-8")
    deadline = time.monotonic() + 5  # the files are checked at most once a second
    while live.text("utter_goodbye", "en") != "See you soon!" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.text("utter_goodbye", "en") == "See you soon!"
