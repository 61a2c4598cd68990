"""Reminder texts: every kind in three framings, every locale and tone; nothing a bystander reading
the phone could learn (no amount, creditor or debt), no threats or invented urgency, and the
opt-out keyword the consent handling really recognises."""

from __future__ import annotations

import re

import pytest

from locales import SUPPORTED_LOCALES, Catalog
from locales.catalog import TONES
from money.reminders.models import ReminderKind
from money.reminders.planner import base_key
from people.consent.keywords import is_stop

catalog = Catalog()
FRAMINGS = ("", "_loss_aversion", "_social_proof")
# Words that would disclose a debt or threaten, per locale (lower case, matched as substrings).
FORBIDDEN = {
    "en": ("debt", "owe", "arrears", "court", "bailiff", "legal", "fee", "urgent", "final", "immediately", "£"),
    "sv": ("skuld", "inkasso", "kronofogd", "domstol", "avgift", "omedelbart", "sista", "kr "),
    "de": ("schuld", "inkasso", "gericht", "vollstreck", "gebühr", "mahnung", "sofort", "letzte", "€"),
    "pt-BR": ("dívida", "divida", "justiça", "protesto", "serasa", "spc", "multa", "juros", "urgente", "r$"),
}


def texts() -> list[tuple[str, str, str, str]]:
    return [
        (locale, base_key(kind) + framing, tone, catalog.text(base_key(kind) + framing, locale, tone))
        for locale in SUPPORTED_LOCALES
        for kind in ReminderKind
        for framing in FRAMINGS
        for tone in TONES
    ]


@pytest.mark.parametrize(("locale", "key", "tone", "text"), texts())
def test_reminder_text_discloses_nothing_and_offers_a_way_out(locale: str, key: str, tone: str, text: str) -> None:
    assert catalog.has(key, locale)
    assert "{" not in text and not re.search(r"\d", text)  # no amounts, dates or references
    lowered = text.lower()
    assert not [word for word in FORBIDDEN[locale] if word in lowered], (key, tone)
    stop_words = [w for w in re.findall(r"\b[A-ZÄÖÅ]{4,}\b", text) if is_stop(w)]
    assert stop_words, f"{key} ({locale}, {tone}) does not say how to opt out"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_framings_differ_from_the_neutral_text(locale: str) -> None:
    for kind in ReminderKind:
        neutral = catalog.text(base_key(kind), locale)
        for framing in FRAMINGS[1:]:
            assert catalog.text(base_key(kind) + framing, locale) != neutral
        assert catalog.text(base_key(kind), locale, "formal") != neutral
