"""`make compare-pipelines`: train NLU pipelines on the same data, time them, score held-out.

Each config is trained with `rasa train nlu` (real Rasa, 2 cores as on CI) and evaluated by
tools.eval_nlu through a real Rasa server. Writes reports/pipelines.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from app.tools import eval_nlu
from tests.stack import RASA, ROOT

DEFAULT = [ROOT / "bot" / "config.yml", *sorted((ROOT / "app" / "tools" / "pipelines").glob("*.yml"))]


def train(config: Path, out: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "train", "nlu", "--config", str(config), "--nlu", "bot/nlu/data", "--domain", "bot/domain",
         "--out", str(out), "--fixed-model-name", config.stem],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("configs", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--file", type=Path, default=ROOT / "bot" / "nlu" / "eval" / "heldout.tsv")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "pipelines.json")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs:
            name = f"{config.parent.name}/{config.name}"
            seconds = train(config, Path(tmp))
            report_path = Path(tmp) / f"{config.stem}.json"
            eval_nlu.main(
                [
                    "--file",
                    str(args.file),
                    "--out",
                    str(report_path),
                    "--model",
                    str(Path(tmp) / f"{config.stem}.tar.gz"),
                ]
            )
            report = json.loads(report_path.read_text())
            n = sum(r["n"] for r in report.values())
            overall = sum(r["intent_accuracy"] * r["n"] for r in report.values()) / n
            results[name] = {
                "train_seconds": round(seconds, 1),
                "intent_accuracy": round(overall, 4),
                "per_locale": report,
            }
            print(f"== {name}: trained in {seconds:.0f} s, held-out intent accuracy {overall:.3f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
