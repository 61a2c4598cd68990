"""`make eval-nlu FILE=path.tsv`: intent accuracy, macro-F1 and language accuracy per locale.

Starts the trained Rasa model as a real server (`rasa run --enable-api`) on a free port and
parses every text through `/model/parse`, so the numbers are what production would see.
Writes `reports/nlu-eval.json` as {"<locale>": {"n", "intent_accuracy", "intent_macro_f1",
"language_accuracy"}}; with `--per-intent` each locale also gets "intents" ({intent: {precision,
recall, f1, support}}) and "confusions" ([{gold, predicted, count}], most frequent first) — the
admin retrain page (training/) compares models with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from app.tools.metrics import accuracy, confusions, macro_f1, per_label
from core.config import ROOT, CoreSettings
from engine.language.detector import LanguageDetector
from engine.language.evaluation import read_rows, score

CONFUSIONS = 20  # confusion pairs kept per locale with --per-intent
# The model `make train` builds and the Rasa of .venv-rasa (the image's: RASA_BIN). Not from the
# tests' stack: admin retraining runs this module in the application image, which has no tests/.
MODEL: Path = CoreSettings.model_fields["training_initial_model"].default
RASA: Path = CoreSettings.model_fields["rasa_bin"].default
# This run's Rasa answers only with this token (--auth-token), like every Rasa we start.
AUTH = {"token": secrets.token_urlsafe(32)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_rasa(port: int, log: Path, model: Path = MODEL, rasa: Path = RASA) -> subprocess.Popen[bytes]:
    command = [str(rasa), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "--model", str(model)]
    command += [f"--auth-token={AUTH['token']}"]  # "=": a token may start with "-"
    return subprocess.Popen(command, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def parse_all(url: str, texts: list[str]) -> list[str | None]:
    limit = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(text: str) -> str | None:
            async with limit:
                response = await client.post(f"{url}/model/parse", params=AUTH, json={"text": text})
                response.raise_for_status()
                intent = response.json().get("intent") or {}
                return intent.get("name")

        return list(await asyncio.gather(*(one(t) for t in texts)))


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("Rasa exited before it was ready")
        try:
            if httpx.get(f"{url}/status", params=AUTH, timeout=5).json().get("model_file"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise TimeoutError("Rasa did not load the model in time")


def evaluate(
    rows: list[dict[str, str]], predicted: list[str | None], *, per_intent: bool = False
) -> dict[str, dict[str, Any]]:
    by_locale: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_locale[row["locale"]].append(i)
    language = score(rows, LanguageDetector())
    report: dict[str, dict[str, Any]] = {}
    for locale, indexes in sorted(by_locale.items()):
        gold = [rows[i]["intent"] for i in indexes]
        guess = [predicted[i] for i in indexes]
        report[locale] = {
            "n": len(indexes),
            "intent_accuracy": round(accuracy(gold, guess), 4),
            "intent_macro_f1": round(macro_f1(gold, guess), 4),
            "language_accuracy": round(language[locale].accuracy, 4),
            "language_n": language[locale].n,
        }
        if per_intent:
            report[locale]["intents"] = {
                label: {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}
                for label, scores in per_label(gold, guess).items()
            }
            report[locale]["confusions"] = [
                {"gold": g, "predicted": p, "count": n} for g, p, n in confusions(gold, guess, top=CONFUSIONS)
            ]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "nlu-eval.json")
    parser.add_argument("--model", type=Path, default=MODEL, help="trained model (default: the one make trains)")
    parser.add_argument("--rasa", type=Path, default=RASA, help="the rasa executable (default: .venv-rasa)")
    parser.add_argument("--per-intent", action="store_true", help="add per-intent scores and confusions per locale")
    args = parser.parse_args(argv)
    rows = read_rows(args.file)
    missing = {"locale", "intent", "text"} - set(rows[0] if rows else {})
    if missing:
        print(f"{args.file}: missing columns {sorted(missing)} (header must be: locale intent text)", file=sys.stderr)
        return 2
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_rasa(port, Path(tmp) / "rasa.log", args.model, args.rasa)
        try:
            wait_ready(url, proc)
            started = time.monotonic()
            predicted = asyncio.run(parse_all(url, [r["text"] for r in rows]))
            parse_seconds = time.monotonic() - started
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    report = evaluate(rows, predicted, per_intent=args.per_intent)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{'locale':8} {'n':>5} {'intent acc':>11} {'macro-F1':>9} {'lang acc':>9}")
    for locale, r in report.items():
        print(
            f"{locale:8} {r['n']:>5} {r['intent_accuracy']:>11.3f} {r['intent_macro_f1']:>9.3f} {r['language_accuracy']:>9.3f}"
        )
    print(f"NLU parse throughput: {len(rows) / parse_seconds:.0f} messages/s (8 concurrent, /model/parse)")
    print("most frequent confusions (gold -> predicted):")
    for gold, guess, n in confusions([r["intent"] for r in rows], predicted):
        print(f"  {gold} -> {guess}: {n}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
