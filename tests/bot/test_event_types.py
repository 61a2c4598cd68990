"""Rasa's event-class lookup with a cache (bot/connectors/event_types.py): the same classes, the
same errors and fallbacks as stock Rasa, faster; in Rasa's own venv (it patches Rasa)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = """
import json, time
from rasa.shared.core.events import Event, UserUttered, SlotSet, ActionExecuted
names = ["user", "slot", "action", "bot", "session_started", "active_loop", "pause", "resume", "followup"]
stock = {n: Event.resolve_by_type(n).__name__ for n in names}
start = time.perf_counter()
for _ in range(200):
    Event.resolve_by_type("slot")
stock_ms = (time.perf_counter() - start) * 1000 / 200

from bot.connectors import event_types
event_types.install()
cached = {n: Event.resolve_by_type(n).__name__ for n in names}
start = time.perf_counter()
for _ in range(200):
    Event.resolve_by_type("slot")
cached_ms = (time.perf_counter() - start) * 1000 / 200
try:
    Event.resolve_by_type("no_such_event")
    unknown = "accepted"
except ValueError:
    unknown = "ValueError"
fallback = Event.resolve_by_type("no_such_event", default=SlotSet).__name__
events = Event.from_parameters({"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}})
print(json.dumps({"same": stock == cached, "stock_ms": stock_ms, "cached_ms": cached_ms, "unknown": unknown,
                  "fallback": fallback, "topic": Event.resolve_by_type("topic"), "user": type(events).__name__}))
"""


def test_cached_lookup_gives_rasas_answers_faster() -> None:
    out = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["same"] is True
    assert result["unknown"] == "ValueError" and result["fallback"] == "SlotSet" and result["topic"] is None
    assert result["user"] == "UserUttered"
    assert result["cached_ms"] < result["stock_ms"] / 5, result
