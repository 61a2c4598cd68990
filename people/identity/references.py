"""Finding the reference in what a person typed, in any spelling.

Agencies keep their own formats (`INV/2024/00123`, `AB-123456`, `7731-20455`) and people type them
with other separators, spaces or case ("my ref is inv 2024 00123"). A candidate is a run of up to
four adjacent words made of letters, digits and separators; its key (people/debtors/references.py:
separators and case dropped) has 4-32 characters with at least one digit, so no ordinary word is
ever taken for a reference. The service picks the candidate that names a case or debt, else
`fallback`: nothing said to the person depends on which (no reference's existence is revealed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from people.debtors.references import reference_key
from people.identity.dates import parse_date

MIN_KEY, MAX_KEY = 4, 32
MAX_WORDS = 4  # "INV 2024 00123", "AB 12 34 56"
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-/–.\\_][A-Za-z0-9]+)*")
_EDGES = ".,;:!?()[]{}<>\"'«»“”‘’*#"


@dataclass(frozen=True)
class Candidate:
    key: str
    start: int  # the first word's position (earlier first among equals)
    words: int


def _words(text: str) -> list[str | None]:
    """Words that could be part of a reference; None for those that break a run."""
    found: list[str | None] = []
    for raw in text.split():
        word = raw.strip(_EDGES)
        found.append(word if word and _WORD.fullmatch(word) else None)
    return found


def _is_key(key: str) -> bool:
    return MIN_KEY <= len(key) <= MAX_KEY and any(ch.isdigit() for ch in key)


def candidates(text: str) -> list[Candidate]:
    """Every candidate in `text`, each key once (at its first place), longest key first."""
    words, seen, found = _words(text[:2000]), set[str](), list[Candidate]()
    for start in range(len(words)):
        for size in range(1, MAX_WORDS + 1):
            window = words[start : start + size]
            if len(window) < size or any(w is None for w in window):
                break
            key = reference_key("".join(w for w in window if w))
            if _is_key(key) and key not in seen and parse_date(" ".join(w for w in window if w)) is None:
                seen.add(key)
                found.append(Candidate(key, start, size))
    return sorted(found, key=lambda c: (-len(c.key), c.start))


def fallback(text: str) -> str | None:
    """The reference meant when none of the candidates is known: the first run of words that
    carry digits and are not dates (`inv/2024/00999` in "ref inv/2024/00999 born 1.2.1980"),
    a lone year or day never ("born 12 april 1985")."""
    words = _words(text[:2000])
    for i, word in enumerate(words):
        if not (word and _digits(word)):
            continue
        run = [word]
        for following in words[i + 1 : i + MAX_WORDS]:
            if not (following and _digits(following)):
                break
            run.append(following)
        key = reference_key("".join(run))
        lone_number = len(run) == 1 and word.isdigit() and len(word) <= 4
        if _is_key(key) and not lone_number and parse_date(" ".join(run)) is None:
            return key
    return None


def _digits(word: str) -> bool:
    """Carries digits and is not a date ("12/04/1985", "1985-04-12" are dates of birth)."""
    if not any(ch.isdigit() for ch in word):
        return False
    return not (len(word) >= 6 and not word.isdigit() and parse_date(word) is not None)
