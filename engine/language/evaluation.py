"""Language-identification accuracy on a labelled TSV (`locale`, `text` columns).

Messages with no language in them (a bare date or reference number) cannot be right or wrong;
they are counted separately so the headline number is about text that carries a language.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from engine.language.detector import LanguageDetector, tokens

_CODES = re.compile(r"\b[a-z]{2}[- ]?\d{6}\b|\d+", re.IGNORECASE)
_MONTHS_ONLY = re.compile(r"^(?:de|of|ref|dob)$")


def carries_language(text: str) -> bool:
    words = [w for w in tokens(_CODES.sub(" ", text)) if len(w) > 1 and not _MONTHS_ONLY.match(w)]
    return bool(words)


@dataclass(frozen=True)
class LanguageScore:
    n: int
    correct: int
    neutral: int  # rows without language (dates, reference numbers)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]


def score(rows: list[dict[str, str]], detector: LanguageDetector) -> dict[str, LanguageScore]:
    """Per locale: accuracy of the message-alone detection on rows that carry a language."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        bucket = counts[row["locale"]]
        if not carries_language(row["text"]):
            bucket[2] += 1
            continue
        bucket[0] += 1
        bucket[1] += detector.detect(row["text"]).locale == row["locale"]
    return {loc: LanguageScore(n=n, correct=c, neutral=z) for loc, (n, c, z) in counts.items()}
