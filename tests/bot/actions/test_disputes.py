"""The dispute flow's actions with a hand-built Tracker and a CollectingDispatcher (SQLite and
PostgreSQL): gate, which debt, why, then a case, a hold, a person in the queue and an answer."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import disputes as actions
from bot.actions import payments as payment_actions
from bot.actions.balance import ActionCheckBalance
from bot.actions.gate import AFTER_VERIFICATION
from bot.actions.payments import ActionPayNow
from handoff import service as handoff_service
from handoff.models import Reason
from locales import Catalog
from money.disputes import service as disputes_service
from money.disputes.models import DisputeReason, DisputeStatus
from money.holds import service as holds_service
from people.debtors import service as debtors_service
from tests.bot.actions.conftest import make_tracker, responses, slots, verified
from tests.money.arrangements.test_service import FakeProvider

DOMAIN: dict = {}
NO_SLOTS = {"dispute_debt": None, "dispute_reason": None, "dispute_details": None}
catalog = Catalog()


@pytest.fixture(autouse=True)
def provider(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    fake = FakeProvider()
    monkeypatch.setattr(payment_actions, "provider_for", lambda settings: fake)
    return fake


def tracker(sid: str, *, slots: dict[str, Any] | None = None, **kwargs: Any) -> Tracker:
    return make_tracker(sid, slots={"verified": True, **NO_SLOTS, **(slots or {})}, **kwargs)


def answering(t: Tracker, slot: str) -> Tracker:
    """The form asked for `slot`, then the latest message came in (as Rasa's events say)."""
    t.events.extend(
        [
            {"event": "slot", "name": "requested_slot", "value": slot},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": t.latest_message["text"], "parse_data": t.latest_message},
        ]
    )
    return t


def test_the_action_server_registers_every_action() -> None:
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    for name in ("action_request_dispute", "action_ask_dispute_debt", "validate_dispute_form", "action_open_dispute"):
        assert name in executor.actions
    assert AFTER_VERIFICATION["dispute_debt"] == "action_request_dispute"


async def test_verification_comes_first_and_the_slot_alone_is_not_enough() -> None:
    dispatcher = CollectingDispatcher()
    t = make_tracker(uuid.uuid4().hex, text="this isn't my debt", intent="dispute_debt", slots={"verified": True})
    events = await actions.ActionRequestDispute().run(dispatcher, t, DOMAIN)
    assert responses(dispatcher) == ["utter_verify_intro"]
    assert SlotSet("requested_topic", "dispute_debt") in events and events[-1] == FollowupAction("verify_identity_form")


async def test_several_debts_ask_which_one_with_buttons_and_keep_the_reason_already_given(
    session: AsyncSession,
) -> None:
    sid, _ = await verified(session, "SE-100234")
    dispatcher = CollectingDispatcher()
    t = tracker(sid, text="det här är inte min skuld", intent="dispute_debt", locale="sv")
    events = await actions.ActionRequestDispute().run(dispatcher, t, DOMAIN)
    assert dispatcher.messages == [] and events[-1] == FollowupAction("dispute_form")
    assert slots(events) == {**NO_SLOTS, "dispute_reason": "not_mine", "dispute_details": "det här är inte min skuld"}

    dispatcher = CollectingDispatcher()
    await actions.ActionAskDisputeDebt().run(dispatcher, tracker(sid, locale="sv"), DOMAIN)
    [ask] = dispatcher.messages
    assert ask["response"] == "utter_ask_dispute_debt"
    payloads = [c["payload"] for c in ask["choices"]]
    assert payloads == ['/dispute_debt{"debt_ref": "NT-7781203"}', '/dispute_debt{"debt_ref": "EK-552310"}']
    rendered = catalog.render(ask["response"], "sv", None, {k: v for k, v in ask.items() if k != "response"})
    assert next(b.title for b in rendered.buttons).startswith("Nordic Telecom AB (ref. NT-7781203): 2")


async def test_one_debt_and_a_reason_in_the_request_fill_the_whole_form(session: AsyncSession) -> None:
    sid, _ = await verified(session, "UK-300552")
    dispatcher = CollectingDispatcher()
    t = tracker(sid, text="I've already paid this", intent="dispute_debt")
    events = await actions.ActionRequestDispute().run(dispatcher, t, DOMAIN)
    assert slots(events) == {**NO_SLOTS, "dispute_debt": "NW-88214", "dispute_reason": "already_paid",
                             "dispute_details": "I've already paid this"}  # fmt: skip
    assert events[-1] == FollowupAction("dispute_form")


async def test_after_verification_the_request_some_turns_back_is_read(session: AsyncSession) -> None:
    sid, _ = await verified(session, "SE-100234")
    t = tracker(sid, text="12.04.1985", intent="inform", locale="sv")
    request = {"text": "EK-552310 – beloppet är fel", "intent": {"name": "dispute_debt"}, "entities": []}
    t.events.append({"event": "user", "text": request["text"], "parse_data": request})
    events = await actions.ActionRequestDispute().run(CollectingDispatcher(), t, DOMAIN)
    values = slots(events)
    assert (values["dispute_debt"], values["dispute_reason"]) == ("EK-552310", "wrong_amount")


async def test_the_form_reads_buttons_names_and_words_and_lets_interruptions_through(session: AsyncSession) -> None:
    sid, _ = await verified(session, "SE-100234")
    form = actions.ValidateDisputeForm()
    dispatcher = CollectingDispatcher()

    def extract(t: Tracker, slot: str) -> Any:
        return getattr(form, f"extract_{slot}")(dispatcher, answering(t, slot), DOMAIN)

    button = tracker(sid, text='/dispute_debt{"debt_ref": "EK-552310"}', intent="dispute_debt",
                     entities=[{"entity": "debt_ref", "value": "EK-552310"}])  # fmt: skip
    assert await extract(button, "dispute_debt") == {"dispute_debt": "EK-552310"}
    typed = tracker(sid, text="den från Nordic Telecom", intent="inform", locale="sv")
    assert await extract(typed, "dispute_debt") == {"dispute_debt": "den från Nordic Telecom"}
    assert await form.validate_dispute_debt("den från Nordic Telecom", dispatcher, typed, DOMAIN) == {
        "dispute_debt": "NT-7781203"
    }
    assert await extract(tracker(sid, text="är du en robot?", intent="bot_challenge"), "dispute_debt") == {}
    # The message that started the form is no answer (it was not asked for yet).
    assert await form.extract_dispute_debt(dispatcher, tracker(sid, text="EK-552310", intent="inform"), DOMAIN) == {}
    assert await form.validate_dispute_debt("vet inte", dispatcher, typed, DOMAIN) == {"dispute_debt": None}
    assert responses(dispatcher) == ["utter_dispute_debt_invalid"]

    reason = tracker(sid, text='/dispute_debt{"dispute_reason": "wrong_amount"}', intent="dispute_debt",
                     entities=[{"entity": "dispute_reason", "value": "wrong_amount"}])  # fmt: skip
    assert await extract(reason, "dispute_reason") == {"dispute_reason": "wrong_amount"}
    assert await form.validate_dispute_reason("wrong_amount", dispatcher, reason, DOMAIN) == {
        "dispute_reason": "wrong_amount"
    }
    paid = tracker(sid, text="jag har redan betalat den", intent="dispute_debt", locale="sv")
    assert await extract(paid, "dispute_reason") == {"dispute_reason": "jag har redan betalat den"}
    assert await form.validate_dispute_reason(paid.latest_message["text"], dispatcher, paid, DOMAIN) == {
        "dispute_reason": "already_paid", "dispute_details": "jag har redan betalat den"
    }  # fmt: skip
    assert await extract(tracker(sid, text="stopp", intent="deny"), "dispute_reason") == {}
    story = "I sent the router back in March and they kept billing me"
    told = tracker(sid, text=story, intent="nlu_fallback", slots={"dispute_details": "I dispute this"})
    assert await form.validate_dispute_reason(story, dispatcher, told, DOMAIN) == {
        "dispute_reason": "other", "dispute_details": f"I dispute this\n{story}"
    }  # fmt: skip
    dispatcher.messages.clear()
    assert (await form.validate_dispute_reason("hmm", dispatcher, told, DOMAIN))["dispute_reason"] is None
    assert responses(dispatcher) == ["utter_dispute_reason_invalid"]


async def test_complete_form_opens_the_case_pauses_the_debt_queues_it_and_says_what_happens(
    session: AsyncSession,
) -> None:
    sid, anna = await verified(session, "SE-100234")
    dispatcher = CollectingDispatcher()
    values = {"dispute_debt": "NT-7781203", "dispute_reason": "not_mine", "dispute_details": "inte min"}
    events = await actions.ActionOpenDispute().run(dispatcher, tracker(sid, slots=values, locale="sv"), DOMAIN)
    assert slots(events) == NO_SLOTS
    assert responses(dispatcher)[0] == "utter_dispute_opened"
    assert responses(dispatcher)[1] in ("utter_handoff_queued", "utter_handoff_offline")
    ack = dispatcher.messages[0]
    assert (ack["creditor"], ack["reference"], ack["days"]) == ("Nordic Telecom AB", "NT-7781203", 10)
    assert (ack["reason_key"], ack["hint_key"]) == ("dispute_reason_not_mine", "dispute_hint_not_mine")
    text = catalog.render("utter_dispute_opened", "sv", None, {k: v for k, v in ack.items() if k != "response"}).text
    assert "NT-7781203" in text and "10 arbetsdagar" in text and "inte min skuld" in text and "{" not in text

    [dispute] = await disputes_service.open_disputes(session=session, debtor_id=anna.id)
    assert (dispute.reason, dispute.status, dispute.conversation_id) == (
        DisputeReason.NOT_MINE,
        DisputeStatus.OPEN,
        sid,
    )
    assert dispute.details == "inte min"
    telecom = next(
        d for d in await debtors_service.open_debts(session=session, debtor_id=anna.id) if d.reference == "NT-7781203"
    )
    assert await holds_service.paused_debt_ids(session=session, debtor_id=anna.id) == {telecom.id}
    case = await handoff_service.open_case(session=session, conversation_id=sid)
    assert case and case.reason is Reason.DISPUTE
    assert case.reasons[-1]["dispute_id"] == dispute.id and case.reasons[-1]["debt_reference"] == "NT-7781203"
    assert case.reasons[-1]["dispute_reason"] == "not_mine"

    # Disputing it again: already under review, no second case.
    for action, t in (
        (actions.ActionOpenDispute(), tracker(sid, slots=values)),
        (actions.ActionRequestDispute(), tracker(sid, text="NT-7781203 is not mine", intent="dispute_debt")),
    ):
        dispatcher = CollectingDispatcher()
        assert slots(await action.run(dispatcher, t, DOMAIN)) == NO_SLOTS
        assert responses(dispatcher) == ["utter_dispute_already_open"]
    assert len(await disputes_service.open_disputes(session=session, debtor_id=anna.id)) == 1
    # Asked which one, only the other debt is offered; every debt under review: nothing to ask.
    dispatcher = CollectingDispatcher()
    await actions.ActionAskDisputeDebt().run(dispatcher, tracker(sid), DOMAIN)
    assert [c["reference"] for c in dispatcher.messages[0]["choices"]] == ["EK-552310"]
    elkraft = next(
        d for d in await debtors_service.open_debts(session=session, debtor_id=anna.id) if d.id != telecom.id
    )
    await disputes_service.open_dispute(
        session=session, debtor_id=anna.id, debt_id=elkraft.id, reason=DisputeReason.WRONG_AMOUNT
    )
    await session.commit()
    dispatcher = CollectingDispatcher()
    t = tracker(sid, text="i dispute this", intent="dispute_debt")
    assert slots(await actions.ActionRequestDispute().run(dispatcher, t, DOMAIN)) == NO_SLOTS
    assert responses(dispatcher) == ["utter_dispute_already_open", "utter_dispute_already_open"]
    # Chosen in the form: the form completes at once and the action says so.
    form = actions.ValidateDisputeForm()
    assert await form.validate_dispute_debt("NT-7781203", CollectingDispatcher(), tracker(sid), DOMAIN) == {
        "dispute_debt": "NT-7781203", "dispute_reason": "not_mine"
    }  # fmt: skip


async def test_a_disputed_debt_is_not_asked_for_but_still_shown_marked(session: AsyncSession) -> None:
    sid, anna = await verified(session, "SE-100234")
    telecom, _elkraft = await debtors_service.open_debts(session=session, debtor_id=anna.id)
    await disputes_service.open_dispute(
        session=session, debtor_id=anna.id, debt_id=telecom.id, reason=DisputeReason.OTHER
    )
    await session.commit()

    dispatcher = CollectingDispatcher()
    await ActionPayNow().run(dispatcher, tracker(sid, text="jag vill betala", intent="pay_now", locale="sv"), DOMAIN)
    assert responses(dispatcher) == ["utter_pay_debt_paused", "utter_payment_link"]
    assert dispatcher.messages[0]["reference"] == "NT-7781203"
    assert dispatcher.messages[1]["due_money"] == {"amount": "2180.00", "currency": "SEK"}
    dispatcher = CollectingDispatcher()
    named = tracker(sid, text='/pay_now{"debt_ref": "NT-7781203"}', intent="pay_now",
                    entities=[{"entity": "debt_ref", "value": "NT-7781203"}])  # fmt: skip
    await ActionPayNow().run(dispatcher, named, DOMAIN)
    assert responses(dispatcher) == ["utter_pay_debt_paused"]

    dispatcher = CollectingDispatcher()
    await ActionCheckBalance().run(dispatcher, tracker(sid, locale="sv"), DOMAIN)
    [balance] = dispatcher.messages
    assert [(d["reference"], d["hold"]) for d in balance["debts"]] == [("NT-7781203", "dispute"), ("EK-552310", None)]
    text = catalog.render("utter_balance", "sv", None, {k: v for k, v in balance.items() if k != "response"}).text
    lines = text.splitlines()
    marked = lines.index(next(line for line in lines if "NT-7781203" in line)) + 1
    assert lines[marked] == catalog.text("balance_hold_dispute", "sv")
    assert sum("indrivningen är pausad" in line for line in lines) == 1


async def test_nothing_to_pay_when_every_debt_is_paused(session: AsyncSession) -> None:
    sid, emily = await verified(session, "UK-300552")
    [water] = await debtors_service.open_debts(session=session, debtor_id=emily.id)
    await disputes_service.open_dispute(
        session=session, debtor_id=emily.id, debt_id=water.id, reason=DisputeReason.OTHER
    )
    await session.commit()
    dispatcher = CollectingDispatcher()
    await ActionPayNow().run(dispatcher, tracker(sid, text="pay", intent="pay_now"), DOMAIN)
    assert responses(dispatcher) == ["utter_collection_paused"]


async def test_nothing_open_to_dispute_still_reaches_a_person(session: AsyncSession) -> None:
    sid, emily = await verified(session, "UK-300552")
    [water] = await debtors_service.open_debts(session=session, debtor_id=emily.id)
    water.status = water.status.PAID
    await session.commit()
    dispatcher = CollectingDispatcher()
    t = tracker(sid, text="i already paid this", intent="dispute_debt")
    assert slots(await actions.ActionRequestDispute().run(dispatcher, t, DOMAIN)) == NO_SLOTS
    assert responses(dispatcher)[0] == "utter_dispute_no_debts"
    case = await handoff_service.open_case(session=session, conversation_id=sid)
    assert case and case.reason is Reason.DISPUTE and case.reasons[-1]["dispute_reason"] == "already_paid"


def test_button_payloads_are_what_rasa_parses() -> None:
    for locale in ("en", "sv", "de", "pt-BR"):
        for button in catalog.render("utter_ask_dispute_reason", locale).buttons:
            intent, _, entities = button.payload[1:].partition("{")
            assert intent == "dispute_debt"
            assert json.loads("{" + entities)["dispute_reason"] in {r.value for r in DisputeReason}
