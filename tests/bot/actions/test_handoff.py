"""Routes to a person from the assistant (SQLite + PostgreSQL): "talk to a person", two messages
in a row not understood, call-back requests when nobody is online."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import common
from bot.actions import handoff as actions
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation
from handoff import service as handoff_service
from handoff.models import CallbackRequest, Handoff, Reason, State
from locales import SUPPORTED_LOCALES
from people.auth.models import StaffUser
from tests.bot.actions.conftest import make_tracker, responses

DOMAIN: dict = {}
ROOT = Path(__file__).resolve().parents[3]
# A Wednesday at 11:00 in London: the English team is at work.
OPEN = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Queue notices depend on the clock (working hours): pin it."""
    monkeypatch.setattr(handoff_service, "utcnow", lambda: OPEN)
    monkeypatch.setattr(actions, "utcnow", lambda: OPEN)
    return OPEN


def sender() -> str:
    return uuid.uuid4().hex


def arguments(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in MESSAGE_KEYS}


def rendered(message: dict[str, Any], locale: str) -> tuple[str, list[dict[str, str]]]:
    """What the gateway's NLG endpoint makes of the message."""
    out = common.catalog.render(message["response"], locale, None, arguments(message))
    return out.text, [b.wire() for b in out.buttons]


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.1}}}


def bot_said() -> dict[str, Any]:
    return {"event": "bot", "text": "..."}


async def agent_online(session: AsyncSession, now: datetime = OPEN) -> StaffUser:
    agent = StaffUser(username=f"agent-{uuid.uuid4().hex[:8]}", display_name="Sam", password_hash="x", last_seen_at=now)
    session.add(agent)
    await session.commit()
    return agent


async def open_case(session: AsyncSession, sid: str) -> Handoff:
    session.expire_all()
    case = await handoff_service.open_case(session=session, conversation_id=sid)
    assert case is not None
    return case


def test_the_action_server_registers_everything_the_domain_lists() -> None:
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    domain = yaml.safe_load((ROOT / "bot" / "domain" / "handoff.yml").read_text(encoding="utf-8"))
    for name in domain["actions"]:
        if name.startswith("utter_"):
            assert all(common.catalog.has(name, locale) for locale in SUPPORTED_LOCALES), name
        else:
            assert executor.actions.get(name), name
    for name in ("action_request_human", "action_fallback", "action_report_hardship", "action_choose_hardship_option"):
        assert name in domain["actions"]


# -- "talk to a person" ----------------------------------------------------------------------
async def test_request_human_with_an_agent_online_queues_with_priority_5(session: AsyncSession) -> None:
    await agent_online(session)
    sid = sender()
    dispatcher = CollectingDispatcher()
    assert await actions.ActionRequestHuman().run(dispatcher, make_tracker(sid, intent="request_human"), DOMAIN) == []
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert dispatcher.messages[0]["minutes"] == 10
    case = await open_case(session, sid)
    assert (case.reason, case.priority) == (Reason.REQUEST_HUMAN, 5)
    conversation = await session.get(Conversation, sid)
    assert conversation is not None and conversation.state == State.QUEUED


async def test_request_human_with_nobody_online_says_by_when_and_offers_a_callback(session: AsyncSession) -> None:
    sid = sender()
    dispatcher = CollectingDispatcher()
    await actions.ActionRequestHuman().run(dispatcher, make_tracker(sid, intent="request_human"), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_offline"]
    by = datetime.fromisoformat(dispatcher.messages[0]["until"])
    assert by == OPEN + timedelta(minutes=120)  # open now, nobody online: the offline promise
    _text, buttons = rendered(dispatcher.messages[0], "en")
    assert [b["payload"] for b in buttons] == ["/request_callback"]
    assert (await open_case(session, sid)).priority == 5


async def test_asking_again_while_waiting_is_not_announced_twice(session: AsyncSession) -> None:
    sid = sender()
    await actions.ActionRequestHuman().run(CollectingDispatcher(), make_tracker(sid, intent="request_human"), DOMAIN)
    dispatcher = CollectingDispatcher()
    await actions.ActionRequestHuman().run(dispatcher, make_tracker(sid, intent="request_human"), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_already_queued"]
    case = await open_case(session, sid)
    assert [r["reason"] for r in case.reasons] == ["request_human", "request_human"]
    assert len((await session.scalars(select(Handoff).where(Handoff.conversation_id == sid))).all()) == 1


async def test_asking_while_an_agent_has_the_conversation_says_so(session: AsyncSession) -> None:
    agent = await agent_online(session)
    sid = sender()
    await conversations_service.ensure(session=session, conversation_id=sid)
    await handoff_service.take(session=session, conversation_id=sid, agent=agent)
    await session.commit()
    dispatcher = CollectingDispatcher()
    await actions.ActionRequestHuman().run(dispatcher, make_tracker(sid, intent="request_human"), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_already_with_agent"]


# -- not understood twice in a row ---------------------------------------------------------------
async def test_one_fallback_asks_to_rephrase_without_escalating(session: AsyncSession) -> None:
    sid = sender()
    tracker = make_tracker(sid, text="flibber", intent="nlu_fallback")
    tracker.events.extend([user("hello", "greet"), bot_said(), user("flibber", "nlu_fallback")])
    dispatcher = CollectingDispatcher()
    assert await actions.ActionFallback().run(dispatcher, tracker, DOMAIN) == []
    assert responses(dispatcher) == ["utter_default"]
    assert await handoff_service.open_case(session=session, conversation_id=sid) is None


async def test_a_fallback_after_an_understood_message_does_not_count(session: AsyncSession) -> None:
    sid = sender()
    tracker = make_tracker(sid, text="flabber", intent="nlu_fallback")
    tracker.events.extend(
        [user("flibber", "nlu_fallback"), bot_said(), user("what do I owe", "check_balance"), bot_said(),
         user("flabber", "nlu_fallback")]
    )  # fmt: skip
    dispatcher = CollectingDispatcher()
    await actions.ActionFallback().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_default"]
    assert await handoff_service.open_case(session=session, conversation_id=sid) is None


async def test_a_fallback_in_an_earlier_session_or_taken_back_does_not_count(session: AsyncSession) -> None:
    sid = sender()
    earlier = make_tracker(sid, text="flabber", intent="nlu_fallback")
    earlier.events.extend(
        [user("flibber", "nlu_fallback"), {"event": "session_started"}, user("flabber", "nlu_fallback")]
    )
    reverted = make_tracker(sid, text="flabber", intent="nlu_fallback")
    reverted.events.extend([user("flibber", "nlu_fallback"), {"event": "rewind"}, user("flabber", "nlu_fallback")])
    for tracker in (earlier, reverted):
        dispatcher = CollectingDispatcher()
        await actions.ActionFallback().run(dispatcher, tracker, DOMAIN)
        assert responses(dispatcher) == ["utter_default"]
    assert await handoff_service.open_case(session=session, conversation_id=sid) is None


async def test_two_fallbacks_in_a_row_queue_for_a_person_with_both_texts(session: AsyncSession) -> None:
    sid = sender()
    tracker = make_tracker(sid, text="flabber", intent="nlu_fallback", locale="de")
    tracker.events.extend([user("flibber", "nlu_fallback"), bot_said(), user("flabber", "nlu_fallback")])
    dispatcher = CollectingDispatcher()
    await actions.ActionFallback().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_fallback_handoff", "utter_handoff_offline"]
    case = await open_case(session, sid)
    assert (case.reason, case.priority) == (Reason.FALLBACK, 6)
    assert case.reasons[0]["texts"] == ["flibber", "flabber"]
    # A third one: already with the queue, no second notice.
    tracker.events.extend([bot_said(), user("flobber", "nlu_fallback")])
    again = CollectingDispatcher()
    await actions.ActionFallback().run(again, tracker, DOMAIN)
    assert responses(again) == ["utter_fallback_already_queued"]


# -- call-back requests ------------------------------------------------------------------------
async def sms_conversation(session: AsyncSession, number: str = "+447700900123") -> str:
    conversation = await conversations_service.get_or_create(session=session, channel="sms", external_id=number)
    await session.commit()
    return conversation.id


async def test_the_form_asks_for_number_and_time_on_web_chat_and_only_the_time_on_sms(session: AsyncSession) -> None:
    web, sms = sender(), await sms_conversation(session)
    await conversations_service.ensure(session=session, conversation_id=web)
    await session.commit()
    for sid, expected in ((web, "utter_ask_callback_details"), (sms, "utter_ask_callback_time")):
        dispatcher = CollectingDispatcher()
        await actions.ActionAskCallbackDetails().run(dispatcher, make_tracker(sid, intent="request_callback"), DOMAIN)
        assert responses(dispatcher) == [expected]


async def test_details_need_a_number_unless_we_have_it(session: AsyncSession) -> None:
    web, sms = sender(), await sms_conversation(session)
    form = actions.ValidateCallbackForm()
    dispatcher = CollectingDispatcher()
    web_tracker, sms_tracker = make_tracker(web, intent="inform"), make_tracker(sms, intent="inform")
    assert await form.validate_callback_details("after 17:30", dispatcher, web_tracker, DOMAIN) == {
        "callback_details": None
    }
    assert responses(dispatcher) == ["utter_callback_number_missing"]
    assert await form.validate_callback_details(" 07700  900123,\n after 17:30 ", dispatcher, web_tracker, DOMAIN) == {
        "callback_details": "07700 900123, after 17:30"
    }
    assert await form.validate_callback_details("after 17:30", dispatcher, sms_tracker, DOMAIN) == {
        "callback_details": "after 17:30"
    }
    assert len(dispatcher.messages) == 1
    tapped_again = make_tracker(sms, text="/request_callback", intent="request_callback")
    assert await form.validate_callback_details("/request_callback", dispatcher, tapped_again, DOMAIN) == {
        "callback_details": None
    }


async def test_a_callback_is_saved_on_the_case_with_the_sms_number_and_by_when(session: AsyncSession) -> None:
    sid = await sms_conversation(session)
    await actions.ActionRequestHuman().run(CollectingDispatcher(), make_tracker(sid, intent="request_human"), DOMAIN)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        sid, text="tomorrow morning", intent="inform", slots={"callback_details": "tomorrow morning"}
    )
    assert await actions.ActionSaveCallback().run(dispatcher, tracker, DOMAIN) == [SlotSet("callback_details", None)]
    assert responses(dispatcher) == ["utter_callback_saved"]
    by, timezone = actions.callback_by("en", OPEN)
    assert dispatcher.messages[0]["until"] == by.isoformat() and timezone == "Europe/London"
    case = await open_case(session, sid)
    [callback] = (await session.scalars(select(CallbackRequest).where(CallbackRequest.conversation_id == sid))).all()
    assert (callback.details, callback.phone, callback.handoff_id) == ("tomorrow morning", "+447700900123", case.id)
    text, _ = rendered(dispatcher.messages[0], "en")
    assert "{until}" not in text


async def test_a_callback_on_web_chat_has_no_phone_and_queues_a_closed_conversation(session: AsyncSession) -> None:
    sid = sender()
    dispatcher = CollectingDispatcher()
    details = "+46 70 123 45 67 efter lunch"
    tracker = make_tracker(sid, text=details, intent="inform", locale="sv", slots={"callback_details": details})
    await actions.ActionSaveCallback().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_callback_saved"]  # no queue notice on top
    case = await open_case(session, sid)
    assert case.reason == Reason.REQUEST_HUMAN and case.reasons[0]["callback"] is True
    [callback] = (await session.scalars(select(CallbackRequest).where(CallbackRequest.conversation_id == sid))).all()
    assert callback.phone is None and callback.details == details


async def test_callback_time_follows_working_hours() -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    by, timezone = actions.callback_by("de", saturday)
    assert timezone == "Europe/Berlin"
    assert by == datetime(2026, 11, 30, 7, 0, tzinfo=UTC) + timedelta(minutes=120)  # Monday 08:00 Berlin + 2 h
