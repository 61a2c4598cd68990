"""UI labels of the HTML pages (web chat, console, admin): `locales/<locale>/pages/<section>.yml`.

Kept apart from the message catalog on purpose: these are fixed page labels, not bot replies, so
they have no tones, no placeholders and no admin overrides; a plain nested mapping per locale,
read once (the pages are rendered on every request, the files change only with a deploy). One
file per section (`webchat.yml`, `console.yml`, `admin.yml`, `staff.yml`), whose top-level key is
the section, so the pages of one feature are translated without touching the others'.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from locales.catalog import FALLBACK_LOCALE, LOCALES_DIR, SUPPORTED_LOCALES, resolve_locale

FOLDER = "pages"


@cache
def all_labels(locale: str) -> dict[str, Any]:
    """Every section of one locale's `pages/` folder (the supported locale code, e.g. `pt-BR`)."""
    sections: dict[str, Any] = {}
    for path in sorted((LOCALES_DIR / locale / FOLDER).glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if not isinstance(data, dict) or list(data) != [path.stem]:
            raise ValueError(f"{path}: one top-level key, the section `{path.stem}`")
        sections.update(data)
    return sections


def labels(locale: str, section: str) -> dict[str, Any]:
    """One section (`webchat`, `console`, `admin`, `staff`) in `locale`, English when unsupported."""
    code = resolve_locale(locale) or FALLBACK_LOCALE
    return dict(all_labels(code)[section])


def locale_names() -> list[tuple[str, str]]:
    """(code, own name) of every supported locale, for the staff language selector."""
    return [(code, str(all_labels(code)["staff"]["locale_name"])) for code in SUPPORTED_LOCALES]


def from_accept_language(header: str | None) -> str | None:
    """The first supported locale in an Accept-Language header, honouring q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        if (code := resolve_locale(tag[:35])) is not None:
            return code
    return None
