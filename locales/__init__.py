"""Texts and formatting per locale. The YAML files beside this module are the only place
user-facing words live; Python here only selects, fills and formats them. Admins' live edits
(tone/) are layered over the files through an optional override source."""

from locales.catalog import (
    PLAIN,
    SUPPORTED_LOCALES,
    TONES,
    Catalog,
    LocaleConfig,
    Overrides,
    OverrideSource,
    TextOverride,
    resolve_locale,
)
from locales.reply import Button, Reply

__all__ = [
    "PLAIN",
    "SUPPORTED_LOCALES",
    "TONES",
    "Button",
    "Catalog",
    "LocaleConfig",
    "OverrideSource",
    "Overrides",
    "Reply",
    "TextOverride",
    "resolve_locale",
]
