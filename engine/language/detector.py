"""Per-message language scores over the supported locales only.

Three voices, combined log-linearly: lingua (restricted to our four languages), langdetect
(restricted the same way) and a naive-Bayes lexicon built from our own NLU training data, which
knows the words debtors actually use ("skulden", "parcelar", "Ratenzahlung", "vc", "pls").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from langdetect import DetectorFactory, LangDetectException
from langdetect.detector_factory import init_factory
from lingua import Language, LanguageDetectorBuilder

from core.config import ROOT
from people.identity.dates import fold

NLU_DIR = ROOT / "bot" / "nlu" / "data"
LOCALES: tuple[str, ...] = ("en", "sv", "de", "pt-BR")
_LINGUA = {Language.ENGLISH: "en", Language.SWEDISH: "sv", Language.GERMAN: "de", Language.PORTUGUESE: "pt-BR"}
_LANGDETECT = {"en": "en", "sv": "sv", "de": "de", "pt": "pt-BR"}
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_FLOOR = 1e-3


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


@dataclass(frozen=True)
class Detection:
    locale: str | None
    confidence: float
    scores: dict[str, float]


class Lexicon:
    """Multinomial naive Bayes over folded words, trained on the per-locale NLU files."""

    def __init__(self, counts: dict[str, Counter[str]]) -> None:
        self.vocab = set().union(*counts.values()) if counts else set()
        self.log_prob: dict[str, dict[str, float]] = {}
        self.unknown: dict[str, float] = {}
        for locale, counter in counts.items():
            total = sum(counter.values()) + len(self.vocab) + 1
            self.log_prob[locale] = {w: math.log((c + 1) / total) for w, c in counter.items()}
            self.unknown[locale] = math.log(1 / total)

    @classmethod
    def from_nlu_files(cls, folder: Path = NLU_DIR) -> Lexicon:
        counts: dict[str, Counter[str]] = {}
        for locale in LOCALES:
            path = folder / f"{locale}.yml"
            if not path.exists():
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            counter: Counter[str] = Counter()
            for block in data.get("nlu", []):
                # Requests to switch language quote other languages' names; skip them.
                if block.get("intent") == "change_language":
                    continue
                for line in str(block.get("examples", "")).splitlines():
                    counter.update(tokens(_ANNOTATION.sub(r"\1", line.lstrip("- "))))
            counts[locale] = counter
        return cls(counts)

    def scores(self, words: Iterable[str]) -> dict[str, float] | None:
        known = [w for w in words if w in self.vocab]
        if not known or not self.log_prob:
            return None
        logs = {loc: sum(table.get(w, self.unknown[loc]) for w in known) for loc, table in self.log_prob.items()}
        return _softmax(logs)


def _softmax(logs: dict[str, float]) -> dict[str, float]:
    top = max(logs.values())
    exp = {k: math.exp(v - top) for k, v in logs.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


class LanguageDetector:
    def __init__(
        self, *, lexicon: Lexicon | None = None, weights: tuple[float, float, float] = (1.0, 0.5, 1.0)
    ) -> None:
        self.lingua = LanguageDetectorBuilder.from_languages(*_LINGUA).with_preloaded_language_models().build()
        init_factory()
        DetectorFactory.seed = 0
        self.lexicon = lexicon if lexicon is not None else Lexicon.from_nlu_files()
        self.weights = weights

    def _lingua(self, text: str) -> dict[str, float]:
        values = self.lingua.compute_language_confidence_values(text)
        return {_LINGUA[v.language]: v.value for v in values}

    def _langdetect(self, text: str) -> dict[str, float] | None:
        from langdetect.detector_factory import _factory

        assert _factory is not None
        try:
            detector = _factory.create()
            detector.append(text)
            probs = detector.get_probabilities()
        except LangDetectException:
            return None
        picked = {_LANGDETECT[p.lang]: p.prob for p in probs if p.lang in _LANGDETECT}
        total = sum(picked.values())
        return {k: v / total for k, v in picked.items()} if total else None

    def detect(self, text: str) -> Detection:
        """Scores for this message alone; locale None when it has no letters at all."""
        words = tokens(text)
        if not words:
            return Detection(locale=None, confidence=0.0, scores={})
        voices = [self._lingua(text), self._langdetect(text), self.lexicon.scores(words)]
        logs = {loc: 0.0 for loc in LOCALES}
        for weight, voice in zip(self.weights, voices, strict=True):
            if not voice or weight == 0:
                continue
            for loc in LOCALES:
                logs[loc] += weight * math.log(max(voice.get(loc, 0.0), _FLOOR))
        scores = _softmax(logs)
        best = max(scores, key=lambda k: scores[k])
        return Detection(locale=best, confidence=scores[best], scores=scores)
