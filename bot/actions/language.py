"""Explicit language change ("english please", "på svenska", buttons)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import db
from engine.conversations import service as conversations_service
from engine.language.detector import tokens
from locales import resolve_locale
from people.identity.dates import fold

# Recognition vocabulary (what people type), not user-facing text.
LANGUAGE_WORDS: dict[str, str] = {
    **dict.fromkeys(["english", "engelska", "englisch", "englich", "ingles", "inglesa", "en"], "en"),
    **dict.fromkeys(["swedish", "svenska", "svensk", "schwedisch", "sueco", "sv"], "sv"),
    **dict.fromkeys(["german", "tyska", "deutsch", "alemao", "alema", "de"], "de"),
    **dict.fromkeys(["portuguese", "portugisiska", "portugiesisch", "portugues", "portuguesa", "pt"], "pt-BR"),
}


def requested_language(tracker: Tracker) -> str | None:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "language":
            value = str(entity.get("value") or "")
            found = resolve_locale(value) or LANGUAGE_WORDS.get(fold(value))
            if found:
                return found
    for word in tokens((tracker.latest_message or {}).get("text") or ""):
        if len(word) > 2 and word in LANGUAGE_WORDS:
            return LANGUAGE_WORDS[word]
    return None


class ActionChangeLanguage(Action):
    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        target = requested_language(tracker)
        if target is None:
            dispatcher.utter_message(response="utter_ask_language")
            return []
        async with db() as session:
            await conversations_service.set_locale(
                session=session, conversation_id=tracker.sender_id, locale=target, locked=True
            )
            await session.commit()
        dispatcher.utter_message(response="utter_language_changed", locale=target)
        return [SlotSet("locale", target)]
