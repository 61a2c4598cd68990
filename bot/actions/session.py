"""Session start: every conversation opens by saying it is an automated assistant (EU AI Act art. 50)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from locales import resolve_locale


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        metadata: dict[str, Any] = tracker.get_slot("session_started_metadata") or {}
        locale = resolve_locale(metadata.get("locale"))
        dispatcher.utter_message(response="utter_ai_disclosure", locale=locale)
        return [SessionStarted(), ActionExecuted("action_listen")]
