"""Side by side: a candidate model's held-out scores against the active model's, per locale."""

from __future__ import annotations

from typing import Any

Metrics = dict[str, Any]


def summary(metrics: Metrics | None) -> dict[str, dict[str, float | int]]:
    """{locale: {n, accuracy, macro_f1}} for the versions table."""
    return {
        locale: {"n": r["n"], "accuracy": r["intent_accuracy"], "macro_f1": r["intent_macro_f1"]}
        for locale, r in sorted((metrics or {}).items())
    }


def compare(candidate: Metrics, current: Metrics | None) -> dict[str, Any]:
    """Per locale: headline scores of both, every intent's precision/recall/F1 of both with the F1
    change (worst first, so regressions are read first), and both models' confusions."""
    current = current or {}
    locales: dict[str, Any] = {}
    for locale, new in sorted(candidate.items()):
        old = current.get(locale)
        old_intents: dict[str, Any] = (old or {}).get("intents") or {}
        intents = []
        for intent, scores in sorted((new.get("intents") or {}).items()):
            before = old_intents.get(intent)
            delta = round(scores["f1"] - before["f1"], 4) if before else None
            intents.append(
                {
                    "intent": intent,
                    "support": scores["support"],
                    "candidate": scores,
                    "current": before,
                    "delta_f1": delta,
                }
            )
        intents.sort(key=lambda row: (row["delta_f1"] is None, row["delta_f1"] or 0.0, row["intent"]))
        locales[locale] = {
            "candidate": summary({locale: new})[locale],
            "current": summary({locale: old})[locale] if old else None,
            "intents": intents,
            "confusions": {"candidate": new.get("confusions") or [], "current": (old or {}).get("confusions") or []},
        }
    return locales
