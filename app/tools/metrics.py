"""Accuracy and macro-F1 without pulling scikit-learn into the gateway venv."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def accuracy(gold: Sequence[str], predicted: Sequence[str | None]) -> float:
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


def per_label(gold: Sequence[str], predicted: Sequence[str | None]) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support of every gold label (a label never predicted scores 0)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fn[g] += 1
            if p is not None:
                fp[p] += 1
    report: dict[str, dict[str, float | int]] = {}
    for label in sorted(set(gold)):
        precision = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        recall = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp[label] + fn[label]}
    return report


def macro_f1(gold: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Mean F1 over the gold labels (a label never predicted scores 0)."""
    scores = [float(r["f1"]) for r in per_label(gold, predicted).values()]
    return sum(scores) / len(scores) if scores else 0.0


def confusions(gold: Sequence[str], predicted: Sequence[str | None], top: int = 10) -> list[tuple[str, str, int]]:
    pairs = Counter((g, p or "-") for g, p in zip(gold, predicted, strict=True) if g != p)
    return [(g, p, n) for (g, p), n in pairs.most_common(top)]
