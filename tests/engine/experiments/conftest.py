"""A small catalog of our own (the real one belongs to other features and changes with them):
a reminder with framing variants in every locale, one English-only text, one text needing an
argument the reminder does not have."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from engine.experiments.definitions import Definition, Variant
from locales import SUPPORTED_LOCALES, Catalog
from locales.catalog import LOCALES_DIR
from people.debtors.models import Debtor

MESSAGE = "utter_reminder_due_soon"
FRAMINGS = ("neutral", "loss_aversion", "social_proof")
TEXT_KEYS = {"neutral": MESSAGE, "loss_aversion": f"{MESSAGE}_loss_aversion", "social_proof": f"{MESSAGE}_social_proof"}
TEXTS: dict[str, object] = {
    MESSAGE: {
        "empathetic": "{amount_money} is due on {due_date}.",
        "formal": "{amount_money} falls due on {due_date}.",
    },
    f"{MESSAGE}_loss_aversion": {
        "empathetic": "Pay {amount_money} by {due_date} to avoid extra fees.",
        "formal": "Payment of {amount_money} by {due_date} avoids further costs.",
    },
    f"{MESSAGE}_social_proof": "Most people settle before {due_date}.",
    "utter_other_reminder": "Another reminder: {amount_money}.",
    "utter_needs_iban": "Transfer to {iban}, by {due_date}.",
}


def write_catalog(root: Path, texts: Mapping[str, object], english_only: Mapping[str, object] | None = None) -> Catalog:
    for locale in SUPPORTED_LOCALES:
        folder = root / locale
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(LOCALES_DIR / locale / "locale.yml", folder / "locale.yml")
        entries = {**texts, **((english_only or {}) if locale == "en" else {})}
        (folder / "texts.yml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return Catalog(root)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return write_catalog(tmp_path / "locales", TEXTS, {"utter_english_only": "Only in English."})


def definition(
    shares: tuple[int, ...] = (34, 33, 33),
    *,
    message: str = MESSAGE,
    outcome_days: int = 7,
    name: str = "First reminder",
) -> Definition:
    variants = [Variant(key=k, text_key=TEXT_KEYS[k], share=s) for k, s in zip(FRAMINGS, shares, strict=False)]
    return Definition(name=name, message_key=message, variants=variants, outcome_days=outcome_days)


async def new_debtor(session: AsyncSession, name: str = "Test Debtor") -> Debtor:
    debtor = Debtor(
        reference=f"XP-{uuid4().hex[:12]}",
        name=name,
        date_of_birth=date(1980, 1, 1),
        locale="en",
        timezone="Europe/London",
    )
    session.add(debtor)
    await session.flush()
    return debtor
