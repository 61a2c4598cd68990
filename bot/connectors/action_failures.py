"""Which custom actions failed during a turn, so the gateway can tell "the action server is down"
from a real answer. Rasa 3.6 logs a failed custom action (action server unreachable or erroring)
and carries on predicting: the debtor would get "sorry, I didn't understand" instead of "I'm
temporarily unavailable, your message is saved", and the inbox would mark the message answered.
The gateway connector collects the failures per request (a context variable: the turn runs in
the request's task) and returns them; a form's validation rejection is normal flow, not a failure.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, List, Optional

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.exceptions import RasaException

_failed: ContextVar[Optional[List[str]]] = ContextVar("failed_custom_actions", default=None)
_original_run = RemoteAction.run


async def _run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
    try:
        return await _original_run(self, *args, **kwargs)
    except ActionExecutionRejection:
        raise
    except RasaException:
        failed = _failed.get()
        if failed is not None:
            failed.append(self.name())
        raise


def collect() -> List[str]:
    """Start collecting for this request's turn; the list fills as custom actions fail."""
    failed: List[str] = []
    _failed.set(failed)
    return failed


def install() -> None:
    RemoteAction.run = _run  # type: ignore[method-assign]
