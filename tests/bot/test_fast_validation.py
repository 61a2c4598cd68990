"""Rasa's response validation, built once (bot/connectors/fast_validation.py): same verdicts as
stock Rasa, in Rasa's own venv (the module patches Rasa internals)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = """
import json, time
from bot.connectors import fast_validation
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator as NLG
from rasa.utils.endpoints import EndpointConfig

fast_validation.install()
action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1"))
good = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]}
start = time.perf_counter()
for _ in range(200):
    assert action._validate_action_result(good)
per_call_ms = (time.perf_counter() - start) * 1000 / 200
verdicts = {}
for name, check in {
    "bad_action": lambda: action._validate_action_result({"events": "not a list"}),
    "bad_nlg": lambda: NLG.validate_response({"text": 5}),
}.items():
    try:
        check()
        verdicts[name] = "accepted"
    except Exception as exc:
        verdicts[name] = type(exc).__name__
verdicts["empty_nlg"] = NLG.validate_response(None)
verdicts["good_nlg"] = NLG.validate_response({"text": "hi", "buttons": [{"title": "a", "payload": "/b"}]})
print(json.dumps({"per_call_ms": per_call_ms, **verdicts}))
"""


def test_validation_is_cheap_and_still_rejects_bad_responses() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300, check=True
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["bad_action"] == "ValidationError"
    assert result["bad_nlg"] == "RasaException"
    assert result["empty_nlg"] is True and result["good_nlg"] is True
    assert result["per_call_ms"] < 10  # stock Rasa: ~40 ms (it re-checks the schema every time)
