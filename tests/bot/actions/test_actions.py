"""Actions with a hand-built Tracker and a CollectingDispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date

from rasa_sdk.events import ActionExecuted, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.balance import ActionCheckBalance
from bot.actions.language import ActionChangeLanguage
from bot.actions.session import ActionSessionStart
from bot.actions.verification import ActionHandleInform, ActionVerifyIdentity, ValidateVerifyIdentityForm
from engine.conversations import service as conversations_service
from handoff import service as handoff_service
from handoff.models import PRIORITY, Reason
from people.debtors import service as debtors_service
from people.identity import service as identity_service
from tests.bot.actions.conftest import make_tracker, responses

DOMAIN: dict = {}


def sender() -> str:
    return uuid.uuid4().hex


async def test_balance_before_verification_asks_for_identity_and_discloses_nothing() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionCheckBalance().run(dispatcher, make_tracker(sender()), DOMAIN)
    assert responses(dispatcher) == ["utter_verify_intro"]
    assert events == [SlotSet("requested_topic", "check_balance"), FollowupAction("verify_identity_form")]


async def test_balance_after_verification_is_itemised(session: AsyncSession) -> None:
    sid = sender()
    anna = await debtors_service.get_by_reference(session=session, reference="SE-100234")
    assert anna
    await conversations_service.mark_verified(session=session, conversation_id=sid, debtor=anna)
    await session.commit()
    dispatcher = CollectingDispatcher()
    events = await ActionCheckBalance().run(
        dispatcher, make_tracker(sid, slots={"verified": True}, locale="sv"), DOMAIN
    )
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_balance"
    assert message["totals"] == [{"currency": "SEK", "amount": "4250.00"}]
    assert [(d["creditor"], d["amount"]) for d in message["debts"]] == [
        ("Nordic Telecom AB", "2070.00"),
        ("ElKraft AB", "2180.00"),
    ]


async def test_slot_alone_is_not_enough_to_disclose() -> None:
    """A verified slot without a verified conversation in the database (e.g. forged) discloses nothing."""
    dispatcher = CollectingDispatcher()
    await ActionCheckBalance().run(dispatcher, make_tracker(sender(), slots={"verified": True}), DOMAIN)
    assert responses(dispatcher) == ["utter_verify_intro"]


async def test_locked_conversation_is_told_when_to_come_back(session: AsyncSession) -> None:
    sid = sender()
    await conversations_service.ensure(session=session, conversation_id=sid)
    for day in (1, 2, 3):
        await identity_service.verify(
            session=session, conversation_id=sid, reference="UK-300552", date_of_birth=date(1990, 1, day)
        )
    await session.commit()
    dispatcher = CollectingDispatcher()
    events = await ActionCheckBalance().run(dispatcher, make_tracker(sid), DOMAIN)
    # Told when to come back, and queued for a person who can verify them another way.
    assert responses(dispatcher) == ["utter_verification_locked", "utter_handoff_offline"]
    assert "until" in dispatcher.messages[0]
    assert events == []
    case = await handoff_service.open_case(session=session, conversation_id=sid)
    assert case is not None and (case.reason, case.priority) == (Reason.LOCKOUT, PRIORITY[Reason.LOCKOUT])
    # Asking again does not announce the queue twice.
    dispatcher = CollectingDispatcher()
    await ActionCheckBalance().run(dispatcher, make_tracker(sid), DOMAIN)
    assert responses(dispatcher) == ["utter_verification_locked"]


async def test_third_failed_attempt_locks_and_queues_for_a_person(session: AsyncSession) -> None:
    sid = sender()
    await conversations_service.ensure(session=session, conversation_id=sid)
    for day in (1, 2):
        await identity_service.verify(
            session=session, conversation_id=sid, reference="UK-300552", date_of_birth=date(1990, 1, day)
        )
    await session.commit()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sid, slots={"reference": "UK-300552", "dob": "1990-01-03"})
    await ActionVerifyIdentity().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_verification_locked", "utter_handoff_offline"]
    case = await handoff_service.open_case(session=session, conversation_id=sid)
    assert case is not None and case.reason == Reason.LOCKOUT


async def test_form_validation_normalises_reference_and_reads_local_dates() -> None:
    form = ValidateVerifyIdentityForm()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender(), locale="sv")
    assert await form.validate_reference("min ref är se 100234", dispatcher, tracker, DOMAIN) == {
        "reference": "SE100234"
    }
    assert await form.validate_dob("12 april 1985", dispatcher, tracker, DOMAIN) == {"dob": "1985-04-12"}
    assert dispatcher.messages == []
    assert await form.validate_reference("vet inte", dispatcher, tracker, DOMAIN) == {"reference": None}
    assert await form.validate_dob("31.02.1985", dispatcher, tracker, DOMAIN) == {"dob": None}
    assert await form.validate_dob("01.01.2999", dispatcher, tracker, DOMAIN) == {"dob": None}
    assert responses(dispatcher) == ["utter_reference_invalid", "utter_dob_invalid", "utter_dob_invalid"]


async def test_slots_cleared_after_a_failed_attempt_are_not_complained_about() -> None:
    """action_verify_identity clears both slots after a wrong answer; the form then validates
    those None values: the person gets one "that did not match", not two format errors."""
    form, dispatcher = ValidateVerifyIdentityForm(), CollectingDispatcher()
    tracker = make_tracker(sender(), locale="de")
    assert await form.validate_reference(None, dispatcher, tracker, DOMAIN) == {"reference": None}
    assert await form.validate_dob(None, dispatcher, tracker, DOMAIN) == {"dob": None}
    assert dispatcher.messages == []


async def test_verify_success_then_balance_when_that_was_asked() -> None:
    sid = sender()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        sid, slots={"reference": "DE-200871", "dob": "1979-11-03", "requested_topic": "check_balance"}
    )
    events = await ActionVerifyIdentity().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_verified", "utter_balance"]
    assert dispatcher.messages[0]["name"] == "Jonas"
    assert dispatcher.messages[1]["totals"] == [{"currency": "EUR", "amount": "408.40"}]
    assert SlotSet("verified", True) in events and SlotSet("dob", None) in events
    assert not any(isinstance(e, dict) and e.get("event") == "followup" for e in events)


async def test_verify_failure_asks_again_without_saying_why() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender(), slots={"reference": "BR-400918", "dob": "1990-02-15"})
    events = await ActionVerifyIdentity().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_verification_failed"] and dispatcher.messages[0]["remaining"] == 2
    assert events[-1] == FollowupAction("verify_identity_form")
    assert SlotSet("verified", True) not in events


async def test_reference_and_date_out_of_the_blue_prefill_the_form() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender(), text="SE-100234 12.04.1985", intent="inform", locale="sv")
    events = await ActionHandleInform().run(dispatcher, tracker, DOMAIN)
    assert events == [
        SlotSet("reference", "SE100234"),
        SlotSet("dob", "1985-04-12"),
        SlotSet("requested_topic", None),
        FollowupAction("verify_identity_form"),
    ]


async def test_change_language_is_explicit_and_sticky(session: AsyncSession) -> None:
    sid = sender()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        sid, text="kan vi ta det på engelska", intent="change_language", locale="sv",
        entities=[{"entity": "language", "value": "engelska"}],
    )  # fmt: skip
    events = await ActionChangeLanguage().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("locale", "en")]
    assert dispatcher.messages[0]["response"] == "utter_language_changed" and dispatcher.messages[0]["locale"] == "en"
    conversation = await conversations_service.get(session=session, conversation_id=sid)
    assert conversation and (conversation.locale, conversation.locale_locked) == ("en", True)


async def test_change_language_without_a_language_offers_the_choice() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionChangeLanguage().run(dispatcher, make_tracker(sender(), text="other language please"), DOMAIN)
    assert events == [] and responses(dispatcher) == ["utter_ask_language"]


async def test_session_start_discloses_the_automated_assistant_in_the_locale() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sender(), slots={"session_started_metadata": {"locale": "pt-BR"}})
    events = await ActionSessionStart().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_ai_disclosure" and dispatcher.messages[0]["locale"] == "pt-BR"
    assert events == [SessionStarted(), ActionExecuted("action_listen")]
