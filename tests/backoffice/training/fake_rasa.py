"""A stand-in for the `rasa` executable in the fast API tests (the real one is exercised by
test_e2e.py): `train` writes Rasa-like log lines and a model file, `run` serves /status and
/model/parse. The "model" answers the held-out set's own label, except that the repository model
(whose file does not start with b"trained") confuses greet with goodbye, so a comparison shows
a difference. Environment: FAKE_RASA_GATE (train waits while that file exists), FAKE_RASA_FAIL
(train fails), FAKE_RASA_DUMP (train copies its workspace there), FAKE_RASA_PIDFILE (train writes
its process id there)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HELDOUT = Path(__file__).resolve().parents[3] / "bot" / "nlu" / "eval" / "heldout.tsv"


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def train(args: list[str]) -> int:
    out, name = Path(option(args, "--out")), option(args, "--fixed-model-name")
    if os.environ.get("FAKE_RASA_PIDFILE"):
        Path(os.environ["FAKE_RASA_PIDFILE"]).write_text(str(os.getpid()))
    if os.environ.get("FAKE_RASA_DUMP"):
        shutil.copytree(Path(option(args, "--config")).parent, os.environ["FAKE_RASA_DUMP"], dirs_exist_ok=True)
    print("2026-01-01 INFO rasa.cli.train - Started validating domain and training data...", flush=True)
    print("Processed rules:  50%|#####     | 1/2\rProcessed rules: 100%|##########| 2/2", flush=True)
    for component in ("MemoizationPolicy", "RulePolicy", "RegexEntityExtractor", "TfidfIntentClassifier"):
        print(f"INFO rasa.engine.training.hooks - Starting to train component '{component}'.", flush=True)
        print(f"INFO rasa.engine.training.hooks - Finished training component '{component}'.", flush=True)
        time.sleep(0.05)
    gate = os.environ.get("FAKE_RASA_GATE")
    while gate and os.path.exists(gate):
        time.sleep(0.05)
    if os.environ.get("FAKE_RASA_FAIL"):
        print("\x1b[91mboom: the training exploded\x1b[0m", flush=True)
        return 3
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.tar.gz").write_bytes(b"trained " + name.encode())
    print(f"Your Rasa model is trained and saved at '{out / name}.tar.gz'.", flush=True)
    return 0


def run(args: list[str]) -> int:
    model = Path(option(args, "--model"))
    trained = model.read_bytes().startswith(b"trained")
    with HELDOUT.open(encoding="utf-8", newline="") as handle:
        gold = {r["text"]: r["intent"] for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def reply(self, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.reply({"model_file": model.name})

        def do_POST(self) -> None:
            text = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["text"]
            intent = gold.get(text, "out_of_scope")
            if intent == "greet" and not trained:
                intent = "goodbye"
            self.reply({"intent": {"name": intent, "confidence": 0.9}})

    ThreadingHTTPServer(("127.0.0.1", int(option(args, "-p"))), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    raise SystemExit(train(rest) if command == "train" else run(rest))
