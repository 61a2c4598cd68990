"""Texts and formatting per locale. The YAML files beside this module are the only place
user-facing words live; Python here only selects, fills and formats them."""

from locales.catalog import SUPPORTED_LOCALES, Catalog, LocaleConfig, Rendered, resolve_locale

__all__ = ["SUPPORTED_LOCALES", "Catalog", "LocaleConfig", "Rendered", "resolve_locale"]
