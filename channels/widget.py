"""The embeddable widget's script (`/widget.js`) with its labels filled in.

The widget runs on the creditor's own site, before its chat iframe exists, so its launcher needs
labels at once. The server writes `locales/<locale>/pages/widget.yml` of every supported locale
into the script it serves (a few short strings), and the script picks the visitor's language:
no second request, so nothing for the host page's CSP (connect-src) or CORS to allow, and no
English left in the JavaScript. The JSON is ASCII-only: the script is decoded with the host
page's charset.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from locales.catalog import SUPPORTED_LOCALES
from locales.pages import all_labels

SOURCE = Path(__file__).resolve().parent / "static" / "widget.js"
MARKER = "{/* widget labels */}"


def labels() -> dict[str, dict[str, str]]:
    """The `widget` section of every supported locale, by locale code (e.g. `pt-BR`)."""
    return {code: dict(all_labels(code)["widget"]) for code in SUPPORTED_LOCALES}


@cache
def script() -> str:
    """widget.js with its labels; read once (the file and the labels change only with a deploy)."""
    source = SOURCE.read_text(encoding="utf-8")
    if source.count(MARKER) != 1:
        raise ValueError(f"{SOURCE}: expected the labels marker {MARKER!r} once")
    return source.replace(MARKER, json.dumps(labels(), ensure_ascii=True, sort_keys=True))
