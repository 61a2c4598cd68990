"""What an experiment is made of, and the rules a definition must meet before it is stored or
started: texts present in every locale, 2-6 variants with distinct keys and integer shares
summing to 100, and no variant needing an argument the message is not sent with."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import RequestRefused
from locales import SUPPORTED_LOCALES, Catalog

VARIANT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_VARIANTS = 6
MAX_OUTCOME_DAYS = 90
ALWAYS_FILLED = {"advice"}  # locales.formatting fills it from the catalog when not given


class ExperimentError(RequestRefused):
    """A request the lifecycle or the definition rules refuse; `code` is what the API returns."""

    default_status = 422


@dataclass(frozen=True)
class Variant:
    key: str
    text_key: str
    share: int


@dataclass(frozen=True)
class Definition:
    name: str
    message_key: str
    variants: Sequence[Variant]
    outcome_days: int


def complete_keys(catalog: Catalog) -> set[str]:
    """Catalog keys present in every supported locale (only those can be sent to anybody)."""
    keys = catalog.keys(SUPPORTED_LOCALES[0])
    for locale in SUPPORTED_LOCALES[1:]:
        keys &= catalog.keys(locale)
    return keys


def placeholders(catalog: Catalog, key: str) -> set[str]:
    """Every `{name}` a text uses, over all locales and tones."""
    found: set[str] = set()
    for locale in SUPPORTED_LOCALES:
        entry: Any = catalog.entry(key, locale)
        templates = [entry] if isinstance(entry, str) else [v for v in entry.values() if isinstance(v, str)]
        for template in templates:
            try:
                found |= {re.split(r"[.\[]", f)[0] for _, f, _, _ in string.Formatter().parse(template) if f}
            except ValueError:
                continue  # a stray brace is literal text, not a placeholder
    return found


def validate(definition: Definition, catalog: Catalog) -> None:
    keys = complete_keys(catalog)
    if not definition.name.strip():
        raise ExperimentError("name_required")
    if definition.message_key not in keys:
        raise ExperimentError("unknown_message_key")
    if not 2 <= len(definition.variants) <= MAX_VARIANTS:
        raise ExperimentError("two_to_six_variants")
    if not 1 <= definition.outcome_days <= MAX_OUTCOME_DAYS:
        raise ExperimentError("outcome_days_out_of_range")
    if len({v.key for v in definition.variants}) != len(definition.variants):
        raise ExperimentError("duplicate_variant_key")
    for variant in definition.variants:
        if not VARIANT_KEY.match(variant.key):
            raise ExperimentError("bad_variant_key")
        if variant.share < 1:
            raise ExperimentError("share_must_be_positive")
        if variant.text_key not in keys:
            raise ExperimentError("unknown_text_key")
    if sum(v.share for v in definition.variants) != 100:
        raise ExperimentError("shares_must_sum_to_100")
    # A variant is sent with the message's arguments: it may use fewer placeholders, never others.
    available = placeholders(catalog, definition.message_key) | ALWAYS_FILLED
    for variant in definition.variants:
        if not placeholders(catalog, variant.text_key) <= available:
            raise ExperimentError("variant_needs_other_arguments")
