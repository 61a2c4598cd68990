"""Summarise `rasa test nlu --cross-validation` output (reports/cv/intent_report.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv or sys.argv[1:] or ["reports/cv"])[0])
    report = json.loads((folder / "intent_report.json").read_text(encoding="utf-8"))
    summary = {
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
    }
    print(json.dumps(summary))
    (folder.parent / "nlu-cv.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
