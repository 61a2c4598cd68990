"""Per-locale vulnerability cue lexicon, loaded from `engine/signals/cues/<locale>.yml`.

Each file maps a category to a list of cues. Text and cues are normalised the same way
(`normalize`): lowercased, diacritics stripped (`identity.dates.fold`), `ß` -> `ss`, apostrophes
dropped ("can't" -> "cant", "I'm" -> "im") and every other non-word character turned into a
single space ("self-harm" -> "self harm"). Cues then match whole words only.

Cue syntax (kept deliberately small, so the files stay reviewable by non-programmers):

* `i want to die`         a word or phrase; words are matched exactly, in order.
* `suicid*`               a trailing `*` matches any word ending ("suicidal", "suicide").
* `my (mum|mom|dad) died` a parenthesised group of alternatives (each may be several words).
* `ta mitt (eget)? liv`    a group followed by `?` is optional (not allowed as the first word).
* `re:<regex>`            a raw regular expression over the normalised text (use sparingly,
                          e.g. for ages); it is wrapped in word boundaries like the others.

A match reports the normalised text that matched (e.g. "my mum died"), grouped by category.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from locales.catalog import SUPPORTED_LOCALES, resolve_locale
from people.identity.dates import fold

CUES_DIR = Path(__file__).resolve().parent / "cues"

SELF_HARM = "self_harm"
BEREAVEMENT = "bereavement"
ILLNESS = "illness"
JOB_LOSS = "job_loss"
FINANCIAL_DISTRESS = "financial_distress"
OTHER_VULNERABILITY = "other_vulnerability"
CATEGORIES: tuple[str, ...] = (SELF_HARM, BEREAVEMENT, ILLNESS, JOB_LOSS, FINANCIAL_DISTRESS, OTHER_VULNERABILITY)

_APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4]")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_CUE_TOKEN = re.compile(r"\([^()]*\)\??|[^\s()]+")


def normalize(text: str) -> str:
    """Fold and flatten text for cue matching: `"I'm  so DEPRIMERAD—can't…"` -> `"im so deprimerad cant"`."""
    folded = fold(text).replace("ß", "ss")
    folded = _APOSTROPHES.sub("", folded)
    return _NON_WORD.sub(" ", folded).strip()


def _word_pattern(word: str) -> str:
    star = word.endswith("*")
    parts = normalize(word.rstrip("*")).split()
    if not parts:
        raise ValueError(f"empty cue word: {word!r}")
    pattern = " ".join(re.escape(p) for p in parts)
    return pattern + (r"\w*" if star else "")


def compile_cue(cue: str) -> re.Pattern[str]:
    """Compile one cue (see module docstring for the syntax) into a word-bounded regex."""
    cue = cue.strip()
    if cue.startswith("re:"):
        body = cue[3:].strip()
    else:
        body = ""
        for index, token in enumerate(_CUE_TOKEN.findall(cue)):
            optional = token.endswith(")?")
            if token.startswith("("):
                inner = token[1 : -2 if optional else -1]
                alternatives = [a.strip() for a in inner.split("|") if a.strip()]
                if not alternatives:
                    raise ValueError(f"empty group in cue {cue!r}")
                piece = "(?:" + "|".join(_word_pattern(a) for a in alternatives) + ")"
            else:
                piece = _word_pattern(token)
            if index == 0:
                if optional:
                    raise ValueError(f"a cue cannot start with an optional group: {cue!r}")
                body = piece
            else:
                body += f"(?: {piece})?" if optional else f" {piece}"
        if not body:
            raise ValueError("empty cue")
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


@dataclass(frozen=True)
class CueLexicon:
    """The compiled cues of one locale: `match(text)` -> {category: [matched cue text, ...]}."""

    locale: str
    patterns: dict[str, tuple[re.Pattern[str], ...]]

    @classmethod
    def from_mapping(cls, locale: str, data: dict[str, Iterable[str]]) -> CueLexicon:
        unknown = set(data) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"{locale}: unknown cue categories {sorted(unknown)}")
        patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        for category in CATEGORIES:
            compiled: list[re.Pattern[str]] = []
            for cue in data.get(category) or ():
                if not isinstance(cue, str):
                    raise ValueError(f"{locale}/{category}: cue must be a string (quote `re:` cues): {cue!r}")
                try:
                    compiled.append(compile_cue(cue))
                except (ValueError, re.error) as exc:
                    raise ValueError(f"{locale}/{category}: bad cue {cue!r}: {exc}") from exc
            patterns[category] = tuple(compiled)
        return cls(locale=locale, patterns=patterns)

    @classmethod
    def load(cls, locale: str, root: Path = CUES_DIR) -> CueLexicon:
        with (root / f"{locale}.yml").open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{locale}: cue file must map category -> list of cues")
        return cls.from_mapping(locale, data)

    def match(
        self, text: str, categories: Iterable[str] | None = None, *, normalized: bool = False
    ) -> dict[str, list[str]]:
        """Matched categories (in `CATEGORIES` order) with the distinct matched cue texts."""
        flat = text if normalized else normalize(text)
        wanted = CATEGORIES if categories is None else tuple(categories)
        found: dict[str, list[str]] = {}
        if not flat:
            return found
        for category in wanted:
            hits: list[str] = []
            for pattern in self.patterns.get(category, ()):
                for m in pattern.finditer(flat):
                    if m.group(0) not in hits:
                        hits.append(m.group(0))
            # keep the most specific wording: drop hits contained in a longer hit
            hits = [h for h in hits if not any(h != o and f" {h} " in f" {o} " for o in hits)]
            if hits:
                found[category] = hits
        return found


_CACHE: dict[str, CueLexicon] = {}
_CACHE_LOCK = threading.Lock()


def lexicon_for(locale: str) -> CueLexicon:
    """The (cached) lexicon of a supported locale; `locale` may be any tag `resolve_locale` accepts."""
    code = resolve_locale(locale)
    if code is None:
        raise KeyError(f"unsupported locale: {locale!r}")
    with _CACHE_LOCK:
        lexicon = _CACHE.get(code)
        if lexicon is None:
            lexicon = _CACHE[code] = CueLexicon.load(code)
        return lexicon


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for category, hits in more.items():
        bucket = into.setdefault(category, [])
        bucket.extend(h for h in hits if h not in bucket)


def match_cues(text: str, locale: str | None) -> dict[str, list[str]]:
    """Cues found in `text`, by category (in `CATEGORIES` order).

    All categories are matched with the lexicon of `locale`; if the locale is unknown/None every
    locale's lexicon is used. Self-harm cues are always matched in every locale, since debtors
    switch language and missing one is far costlier than a rare false alarm.
    """
    flat = normalize(text)
    code = resolve_locale(locale)
    found: dict[str, list[str]] = {}
    primary = [code] if code else list(SUPPORTED_LOCALES)
    for loc in primary:
        _merge(found, lexicon_for(loc).match(flat, normalized=True))
    for loc in SUPPORTED_LOCALES:
        if loc not in primary:
            _merge(found, lexicon_for(loc).match(flat, [SELF_HARM], normalized=True))
    return {c: found[c] for c in CATEGORIES if c in found}
