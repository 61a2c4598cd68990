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
    Rendered,
    TextOverride,
    resolve_locale,
)

__all__ = [
    "PLAIN",
    "SUPPORTED_LOCALES",
    "TONES",
    "Catalog",
    "LocaleConfig",
    "OverrideSource",
    "Overrides",
    "Rendered",
    "TextOverride",
    "resolve_locale",
]
