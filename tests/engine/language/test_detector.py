"""Language identification: measured on held-out debtor messages, not hand-picked ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from langdetect import DetectorFactory, detect

from engine.language.detector import LanguageDetector
from engine.language.evaluation import carries_language, read_rows, score

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def test_heldout_accuracy_per_locale_is_at_least_95_percent(detector: LanguageDetector) -> None:
    scores = score(read_rows(ROOT / "bot" / "nlu" / "eval" / "heldout.tsv"), detector)
    assert set(scores) == {"en", "sv", "de", "pt-BR"}
    for locale, result in scores.items():
        assert result.n >= 140, locale
        assert result.accuracy >= 0.95, (locale, result)


def test_short_messages_far_better_than_plain_langdetect(detector: LanguageDetector) -> None:
    rows = read_rows(ROOT / "tests" / "data" / "short_messages.tsv")
    DetectorFactory.seed = 0
    to_locale = {"en": "en", "sv": "sv", "de": "de", "pt": "pt-BR"}
    plain = sum(to_locale.get(detect(r["text"])) == r["locale"] for r in rows)
    ours = sum(detector.detect(r["text"]).locale == r["locale"] for r in rows)
    assert len(rows) == 20
    assert ours >= 19 and ours > plain + 5, (ours, plain)


def test_no_letters_no_language(detector: LanguageDetector) -> None:
    assert detector.detect("12.04.1985").locale is None
    assert detector.detect("👍").locale is None
    assert not carries_language("SE-100234, 12/04/1985")
    assert carries_language("mitt nummer är SE-100234")
