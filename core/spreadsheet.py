"""Cells a spreadsheet would run as a formula (OWASP "CSV injection"), made plain text.

A text cell starting with = + - @, a tab or a carriage return gets a leading apostrophe, so a
creditor name or a note such as `=HYPERLINK(...)` opens as text; numbers are left as they are.
Every CSV the project writes for people to open passes its text cells through `safe`."""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value
