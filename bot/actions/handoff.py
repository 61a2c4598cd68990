"""Routes to a person from the assistant's side: "talk to a person", two messages in a row not
understood, and a call-back request when nobody is online (texts: locales/*/hardship.yml)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.common import db, locale_of
from bot.actions.escalation import escalate
from core.database import utcnow
from engine.conversations import service as conversations_service
from handoff import config as handoff_config
from handoff import service as handoff_service
from handoff.models import Reason, State

FALLBACK_INTENT = "nlu_fallback"
CALLBACK_FORM, CALLBACK_SLOT = "callback_form", "callback_details"
# Channels whose address is the person's phone number (channels/twilio.py): no need to ask for it.
PHONE_CHANNELS = frozenset({"sms", "whatsapp"})
MAX_DETAILS = 500  # characters kept of a call-back request
MAX_QUOTE = 200  # characters of each misunderstood message kept on the case for the agent
# A phone number somewhere in free text: digits with spaces, dashes, dots or brackets between,
# at least MIN_PHONE_DIGITS of them (a time like "after 17:30" is not one).
PHONE_NUMBER = re.compile(r"\+?\d[\d\s\-./()]{4,}\d")
MIN_PHONE_DIGITS = 7


# -- "talk to a person" ----------------------------------------------------------------------
def already_waiting(dispatcher: CollectingDispatcher, state: State) -> None:
    """Asked again while already in the queue (or with a person): no second notice."""
    key = "utter_handoff_already_with_agent" if state == State.AGENT else "utter_handoff_already_queued"
    dispatcher.utter_message(response=key)


class ActionRequestHuman(Action):
    """Queue the conversation for a person. Needs no verification: nothing about a debt is said."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        async with db() as session:
            escalation = await escalate(dispatcher, tracker, session=session, reason=Reason.REQUEST_HUMAN)
        if not escalation.created:
            already_waiting(dispatcher, escalation.state)
        return []


# -- not understood, twice in a row ------------------------------------------------------------
def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def user_messages(tracker: Tracker) -> list[dict[str, Any]]:
    """This session's user messages, newest first (the message being answered is the first).
    A message Rasa took back (`rewind`, e.g. after its own fallback) does not count."""
    found: list[dict[str, Any]] = []
    rewinds = 0
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            break
        if kind == "rewind":
            rewinds += 1
        elif kind == "user":
            if rewinds:
                rewinds -= 1
            else:
                found.append(event)
    return found


def misunderstood_texts(tracker: Tracker) -> list[str] | None:
    """The two messages, when the one before this one was not understood either; else None."""
    messages = user_messages(tracker)
    if len(messages) < 2 or _intent(messages[1]) != FALLBACK_INTENT:
        return None
    return [str(m.get("text") or "")[:MAX_QUOTE] for m in (messages[1], messages[0])]


class ActionFallback(Action):
    """Not understood: ask to rephrase; the second time in a row, hand over to a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        texts = misunderstood_texts(tracker)
        if texts is None:
            dispatcher.utter_message(response="utter_default")
            return []
        async with db() as session:
            escalation = await escalate(
                dispatcher, tracker, session=session, reason=Reason.FALLBACK, detail={"texts": texts}, announce=False
            )
            if not escalation.created:
                dispatcher.utter_message(response="utter_fallback_already_queued")
                return []
            dispatcher.utter_message(response="utter_fallback_handoff")
            key, arguments = await handoff_service.notice(session=session, locale=locale_of(tracker))
        dispatcher.utter_message(response=key, **arguments)
        return []


# -- call-back request -------------------------------------------------------------------------
async def phone_of(session: AsyncSession, conversation_id: str) -> str | None:
    """The person's number when they write from a phone channel (the conversation's address)."""
    conversation = await conversations_service.get(session=session, conversation_id=conversation_id)
    if conversation is None or conversation.channel not in PHONE_CHANNELS:
        return None
    return conversation.external_id


def callback_by(locale: str | None, now: datetime | None = None) -> tuple[datetime, str]:
    """By when a person calls back: the next opening of the locale's team plus the offline reply
    promise, as the queue notice says; with the team's time zone."""
    config = handoff_config.load()
    hours = config.hours_for(locale)
    return hours.next_open(now or utcnow()) + timedelta(minutes=config.reply_minutes_offline), hours.timezone.key


def has_phone_number(text: str) -> bool:
    return any(sum(c.isdigit() for c in m.group()) >= MIN_PHONE_DIGITS for m in PHONE_NUMBER.finditer(text))


class ActionAskCallbackDetails(Action):
    """The form's question: number and time, or only the time when we already have the number."""

    def name(self) -> str:
        return "action_ask_callback_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        async with db() as session:
            phone = await phone_of(session, tracker.sender_id)
        dispatcher.utter_message(response="utter_ask_callback_time" if phone else "utter_ask_callback_details")
        return []


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_callback_form"

    async def validate_callback_details(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(slot_value or "").split())[:MAX_DETAILS]
        if not text or _intent({"parse_data": tracker.latest_message or {}}) == "request_callback":
            return {CALLBACK_SLOT: None}  # the button tapped again: the form asks again
        async with db() as session:
            phone = await phone_of(session, tracker.sender_id)
        if phone is None and not has_phone_number(text):
            dispatcher.utter_message(response="utter_callback_number_missing")
            return {CALLBACK_SLOT: None}
        return {CALLBACK_SLOT: text}


class ActionSaveCallback(Action):
    """Store the request on the open case (queueing the conversation if it no longer is) and
    say by when someone will call."""

    def name(self) -> str:
        return "action_save_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        details = tracker.get_slot(CALLBACK_SLOT)
        if not details:
            return [SlotSet(CALLBACK_SLOT, None)]
        async with db() as session:
            await escalate(
                dispatcher, tracker, session=session, reason=Reason.REQUEST_HUMAN, detail={"callback": True},
                announce=False,
            )  # fmt: skip
            phone = await phone_of(session, tracker.sender_id)
            await handoff_service.add_callback(
                session=session, conversation_id=tracker.sender_id, details=str(details), phone=phone
            )
            await session.commit()
        by, timezone = callback_by(locale_of(tracker))
        dispatcher.utter_message(response="utter_callback_saved", until=by.isoformat(), timezone=timezone)
        return [SlotSet(CALLBACK_SLOT, None)]
