"""Identity verification: nothing about a debt is said before reference + date of birth match."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.balance import utter_balance
from bot.actions.common import db
from bot.actions.escalation import escalate
from bot.actions.gate import AFTER_VERIFICATION, FORM, read_birth_date, start_verification
from bot.actions.hardship import PAUSE_TOPIC, apply_pause
from bot.actions.payments import offer_payment
from engine.conversations import service as conversations_service
from handoff.models import Reason
from people.identity import service as identity_service


class ValidateVerifyIdentityForm(FormValidationAction):
    def name(self) -> str:
        return "validate_verify_identity_form"

    async def validate_reference(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:  # cleared by action_verify_identity, not typed: nothing to complain about
            return {"reference": None}
        # The whole message first: "INV2024 00123" is one reference however the NLU split it.
        typed = (tracker.latest_message or {}).get("text") or ""
        async with db() as session:
            reference = await identity_service.read_reference(session=session, texts=[typed, str(slot_value)])
        if reference is None:
            dispatcher.utter_message(response="utter_reference_invalid")
        return {"reference": reference}

    async def validate_dob(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:  # cleared after a failed attempt: the form simply asks again
            return {"dob": None}
        born = read_birth_date(str(slot_value), tracker)
        if born is None:
            dispatcher.utter_message(response="utter_dob_invalid")
            return {"dob": None}
        return {"dob": born.isoformat()}


class ActionVerifyIdentity(Action):
    def name(self) -> str:
        return "action_verify_identity"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference, dob = tracker.get_slot("reference"), tracker.get_slot("dob")
        clear = [SlotSet("reference", None), SlotSet("dob", None)]
        if not reference or not dob:
            return [*clear, FollowupAction(FORM)]
        async with db() as session:
            await conversations_service.ensure(session=session, conversation_id=tracker.sender_id)
            result = await identity_service.verify(
                session=session,
                conversation_id=tracker.sender_id,
                reference=reference,
                date_of_birth=date.fromisoformat(dob),
            )
            await session.commit()
            if result.outcome is identity_service.Outcome.VERIFIED and result.debtor:
                conversation = await conversations_service.get(session=session, conversation_id=tracker.sender_id)
                locale = conversation.locale if conversation else None  # may now be the debtor's own
                dispatcher.utter_message(response="utter_verified", name=result.debtor.name.split()[0], locale=locale)
                earlier = await conversations_service.previous_contact(
                    session=session, debtor_id=result.debtor.id, conversation_id=tracker.sender_id
                )
                if earlier is not None:
                    dispatcher.utter_message(
                        response="utter_welcome_back",
                        channel_key=f"channel_name_{earlier.channel}",
                        last_date=earlier.last_message_at.date().isoformat(),
                        locale=locale,
                    )
                verified = [*clear, SlotSet("verified", True), SlotSet("requested_topic", None)]
                topic = tracker.get_slot("requested_topic") or ""
                if topic == "check_balance":
                    await utter_balance(dispatcher, session=session, debtor_id=result.debtor.id, locale=locale)
                elif topic == "pay_now":
                    await offer_payment(
                        dispatcher,
                        tracker,
                        session=session,
                        conversation_id=tracker.sender_id,
                        debtor_id=result.debtor.id,
                    )
                elif topic == PAUSE_TOPIC:  # chosen in hardship before verification
                    await apply_pause(
                        dispatcher, session=session, conversation_id=tracker.sender_id, debtor=result.debtor,
                        locale=locale,
                    )  # fmt: skip
                elif topic in AFTER_VERIFICATION:
                    return [*verified, FollowupAction(AFTER_VERIFICATION[topic])]
                else:
                    dispatcher.utter_message(response="utter_how_can_help", locale=locale)
                return verified
            if result.outcome is identity_service.Outcome.LOCKED and result.locked_until:
                dispatcher.utter_message(response="utter_verification_locked", until=result.locked_until.isoformat())
                await escalate(dispatcher, tracker, session=session, reason=Reason.LOCKOUT)
                return [*clear, SlotSet("requested_topic", None)]
        dispatcher.utter_message(response="utter_verification_failed", remaining=result.remaining)
        return [*clear, FollowupAction(FORM)]


class ActionHandleInform(Action):
    """A reference or date typed out of the blue starts verification with what was given."""

    def name(self) -> str:
        return "action_handle_inform"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("verified"):
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        text = (tracker.latest_message or {}).get("text") or ""
        prefill: list[EventType] = []
        async with db() as session:
            reference = await identity_service.read_reference(session=session, texts=[text])
        if reference:
            prefill.append(SlotSet("reference", reference))
        if born := read_birth_date(text, tracker):
            prefill.append(SlotSet("dob", born.isoformat()))
        return await start_verification(dispatcher, tracker, topic=None, prefill=prefill)
