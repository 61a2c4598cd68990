"""The gate in front of every disclosure: start (or refuse, when locked) identity verification."""

from __future__ import annotations

from datetime import date

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import db, locale_config
from bot.actions.escalation import escalate
from engine.conversations import service as conversations_service
from handoff.models import Reason
from people.identity import service as identity_service
from people.identity.dates import parse_date

FORM = "verify_identity_form"
EARLIEST_BIRTH = date(1900, 1, 1)

# Flows that continue with a form once the person is verified, by the topic that made us ask
# (requested_topic). Answers without a form (balance, pay now) are given inline by
# action_verify_identity: a FollowupAction to them would leave Rasa without a rule for the turn.
AFTER_VERIFICATION: dict[str, str] = {
    "payment_plan": "action_request_plan",
    "promise_to_pay": "action_request_promise",
    "dispute_debt": "action_request_dispute",
}


async def start_verification(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, topic: str | None, prefill: list[EventType] | None = None
) -> list[EventType]:
    """Explain why we ask, then run the form — unless verification is locked for this chat."""
    async with db() as session:
        conversation = await conversations_service.ensure(session=session, conversation_id=tracker.sender_id)
        state = await identity_service.lock_state(session=session, conversation_id=conversation.id)
        await session.commit()
        if state.locked_until:
            # Locked out: a person can verify them another way (the case is queued once).
            dispatcher.utter_message(response="utter_verification_locked", until=state.locked_until.isoformat())
            await escalate(dispatcher, tracker, session=session, reason=Reason.LOCKOUT, detail={"topic": topic})
            return []
    dispatcher.utter_message(response="utter_verify_intro")
    return [*(prefill or []), SlotSet("requested_topic", topic), FollowupAction(FORM)]


def read_birth_date(text: str, tracker: Tracker) -> date | None:
    parsed = parse_date(text, date_order=locale_config(tracker).date_order)
    if parsed is None or not EARLIEST_BIRTH <= parsed <= date.today():
        return None
    return parsed
