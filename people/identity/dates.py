"""Read a date of birth the way people in each locale write it.

Accepts numeric dates (12.04.1985, 12/04/1985, 1985-04-12, 12/4 1985, 19850412, and 850412 in
Swedish) and written months in en/sv/de/pt, with or without diacritics ("12 april 1985",
"12. März 1985", "12 de abril de 1985", "April 12th, 1985").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MONTHS: dict[str, int] = {}
_NAMES = {
    1: "january jan januari januar janeiro jan. jänner",
    2: "february feb februari februar fevereiro fev",
    3: "march mar mars marz maerz märz marco março",
    4: "april apr abril abr",
    5: "may maj mai maio",
    6: "june jun juni junho",
    7: "july jul juli julho",
    8: "august aug augusti agosto ago",
    9: "september sep sept setembro set",
    10: "october oct oktober okt outubro out",
    11: "november nov novembro",
    12: "december dec dezember dez dezembro",
}


def fold(text: str) -> str:
    """Lowercase and strip diacritics (März -> marz, março -> marco)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


for _month, _words in _NAMES.items():
    for _word in _words.split():
        MONTHS[fold(_word).rstrip(".")] = _month

_MONTH_RE = r"([a-z]{3,10})\.?"
_DAY_RE = r"(\d{1,2})(?:st|nd|rd|th|e|:e|a)?\.?"
_WRITTEN_DMY = re.compile(rf"\b{_DAY_RE}\s*(?:de\s+|of\s+)?{_MONTH_RE}\s*,?\s*(?:de\s+)?(\d{{4}})\b")
_WRITTEN_MDY = re.compile(rf"\b{_MONTH_RE}\s+{_DAY_RE}\s*,?\s*(\d{{4}})\b")
_ISO = re.compile(r"\b(\d{4})[-./](\d{1,2})[-./](\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})\s*[-./]\s*(\d{1,2})\s*[-./ ]\s*(\d{4}|\d{2})\b")
_COMPACT8 = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_COMPACT6 = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})(?!\d)")


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(year: int, today: date) -> int:
    if year >= 100:
        return year
    return 2000 + year if 2000 + year <= today.year else 1900 + year


def parse_date(text: str, *, date_order: str = "DMY", today: date | None = None) -> date | None:
    """Return the first date found in `text`, or None. `date_order` breaks numeric ties."""
    today = today or date.today()
    t = fold(text)
    if m := _ISO.search(t):
        return _safe(int(m[1]), int(m[2]), int(m[3]))
    if m := _WRITTEN_DMY.search(t):
        month = MONTHS.get(m[2])
        if month:
            return _safe(int(m[3]), month, int(m[1]))
    if m := _WRITTEN_MDY.search(t):
        month = MONTHS.get(m[1])
        if month:
            return _safe(int(m[3]), month, int(m[2]))
    if m := _NUMERIC.search(t):
        a, b, year = int(m[1]), int(m[2]), _full_year(int(m[3]), today)
        # Day-first everywhere we operate; month-first only when day-first is impossible.
        if a > 12 or b <= 12:
            return _safe(year, b, a)
        return _safe(year, a, b)
    if m := _COMPACT8.search(t):
        return _safe(int(m[1]), int(m[2]), int(m[3]))
    if date_order == "YMD" and (m := _COMPACT6.search(t)):
        return _safe(_full_year(int(m[1]), today), int(m[2]), int(m[3]))
    return None


_REFERENCE = re.compile(r"\b([a-z]{2})\s*[-–]?\s*(\d{6})\b", re.IGNORECASE)


def parse_reference(text: str) -> str | None:
    """Normalise a case reference (`se 100234`, `SE100234`) to `SE-100234`."""
    m = _REFERENCE.search(text)
    return f"{m[1].upper()}-{m[2]}" if m else None
