"""Custom actions that fail during a turn are reported per request (bot/connectors/action_failures.py):
an unreachable action server counts, a form's validation rejection does not, and Rasa's own
behaviour (the exception) is unchanged. In Rasa's own venv (it patches Rasa)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = """
import asyncio, json
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from bot.connectors import action_failures

action_failures.install()
args = (CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), DialogueStateTracker("s", []), Domain.empty())


async def attempt(action):
    try:
        await action.run(*args)
        return "ran"
    except Exception as exc:
        return type(exc).__name__


async def turn(action):
    failed = action_failures.collect()
    return await attempt(action), failed


async def main():
    down = RemoteAction("action_check_balance", EndpointConfig("http://127.0.0.1:9/webhook"))
    outside = await attempt(down)  # no request collecting: nothing recorded, same exception
    raised, failed = await turn(down)

    async def reject(self, *a, **k):
        raise ActionExecutionRejection(self.name())
    action_failures._original_run = reject
    rejected, rejected_failed = await turn(RemoteAction("validate_verify_form", None))
    print(json.dumps({"outside": outside, "raised": raised, "failed": failed,
                      "rejected": rejected, "rejected_failed": rejected_failed}))

asyncio.run(main())
"""


def test_failed_custom_actions_are_collected_per_turn() -> None:
    out = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {
        "outside": "RasaException",
        "raised": "RasaException",
        "failed": ["action_check_balance"],
        "rejected": "ActionExecutionRejection",
        "rejected_failed": [],
    }
