"""Plan and promise actions with a hand-built Tracker and a CollectingDispatcher (SQLite + PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import arrangements as actions
from bot.actions.gate import AFTER_VERIFICATION
from money.arrangements import service as arrangements_service
from money.arrangements.models import PaymentPlan, PaymentPromise, PromiseStatus
from payments.models import Payment
from tests.bot.actions.conftest import make_tracker, responses, slots, verified
from tests.money.arrangements.test_service import FakeProvider, pay

DOMAIN: dict = {}
PLAN_SLOTS = {
    "plan_terms": None,
    "plan_frequency": None,
    "plan_first_date": None,
    "plan_offer": None,
    "plan_confirmed": None,
}


@pytest.fixture(autouse=True)
def provider(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    fake = FakeProvider()
    monkeypatch.setattr(actions, "provider_for", lambda settings: fake)
    return fake


def tracker(sid: str, **kwargs: Any) -> Any:
    extra = kwargs.pop("slots", {})
    return make_tracker(
        sid, slots={"verified": True, **PLAN_SLOTS, "promise_amount": None, "promise_date": None, **extra}, **kwargs
    )


async def propose(
    sid: str, values: dict[str, Any], *, locale: str = "en", events: list | None = None
) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    t = tracker(sid, slots=values, locale=locale)
    t.events.extend(events or [])
    return dispatcher, await actions.ActionProposePlan().run(dispatcher, t, DOMAIN)


def test_the_action_server_registers_every_action() -> None:
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    for name in ("action_request_plan", "validate_plan_form", "action_propose_plan", "validate_plan_confirm_form",
                 "action_confirm_plan",
                 "action_request_promise", "validate_promise_form", "action_record_promise"):  # fmt: skip
        assert name in executor.actions


async def test_both_flows_verify_first_and_continue_after_verification() -> None:
    for action, topic in (
        (actions.ActionRequestPlan(), "payment_plan"),
        (actions.ActionRequestPromise(), "promise_to_pay"),
    ):
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, make_tracker(uuid.uuid4().hex, slots={"verified": True}), DOMAIN)
        assert responses(dispatcher) == ["utter_verify_intro"]  # the slot alone is not enough
        assert SlotSet("requested_topic", topic) in events and events[-1] == FollowupAction("verify_identity_form")
        assert AFTER_VERIFICATION[topic] == action.name()


async def test_plan_request_prefills_what_was_said_and_runs_the_form(session: AsyncSession) -> None:
    sid, _ = await verified(session, "UK-300552")
    dispatcher = CollectingDispatcher()
    t = tracker(sid, text="could I pay £60 a month", intent="request_payment_plan")
    events = await actions.ActionRequestPlan().run(dispatcher, t, DOMAIN)
    assert dispatcher.messages == [] and events[-1] == FollowupAction("plan_form")
    assert slots(events) == {**PLAN_SLOTS, "plan_terms": "amount:6000", "plan_frequency": "monthly"}


async def test_plan_accepted_confirmed_stored_and_first_link_sent(
    session: AsyncSession, provider: FakeProvider
) -> None:
    sid, emily = await verified(session, "UK-300552")
    first = arrangements_service.local_today(emily) + timedelta(days=3)
    values = {"plan_terms": "amount:6000", "plan_frequency": "monthly", "plan_first_date": first.isoformat()}
    dispatcher, events = await propose(sid, values)
    assert responses(dispatcher) == ["utter_plan_accepted", "utter_plan_summary_no_costs"]
    summary = dispatcher.messages[1]
    assert summary["count"] == 11 and summary["total_money"] == {"amount": "612.45", "currency": "GBP"}
    assert summary["schedule"][0] == {"due_date": first.isoformat(), "amount": "60.00", "currency": "GBP"}
    assert summary["schedule"][-1]["amount"] == "12.45"
    assert events[-1] == FollowupAction("plan_confirm_form")
    offer = slots(events)["plan_offer"]

    dispatcher = CollectingDispatcher()
    t = tracker(sid, slots={**values, "plan_offer": offer, "plan_confirmed": True}, intent="affirm")
    events = await actions.ActionConfirmPlan().run(dispatcher, t, DOMAIN)
    assert responses(dispatcher) == ["utter_plan_created", "utter_plan_payment_link"]
    created, link = dispatcher.messages
    assert (
        created["first_money"] == {"amount": "60.00", "currency": "GBP"} and created["first_date"] == first.isoformat()
    )
    plan = await arrangements_service.active_plan(session=session, debtor_id=emily.id)
    assert plan and len(plan.installments) == 11 and plan.conversation_id == sid
    payment = await session.scalar(select(Payment).where(Payment.installment_id == plan.installments[0].id))
    assert payment and payment.amount_minor == 6000 and link["url"] == payment.checkout_url
    assert provider.requests[0].success_url.endswith("/payments/return?status=success")
    assert slots(events) == PLAN_SLOTS
    # A second request shows the running plan instead of starting another.
    dispatcher = CollectingDispatcher()
    await actions.ActionRequestPlan().run(dispatcher, tracker(sid, intent="request_payment_plan"), DOMAIN)
    assert responses(dispatcher) == ["utter_plan_already_active"]
    assert dispatcher.messages[0]["next_money"] == {"amount": "60.00", "currency": "GBP"}


async def test_plan_countered_with_reasons_then_refused_when_the_counter_is_declined(session: AsyncSession) -> None:
    sid, anna = await verified(session, "SE-100234")
    late = arrangements_service.local_today(anna) + timedelta(days=50)
    values = {"plan_terms": "amount:30000", "plan_frequency": "monthly", "plan_first_date": late.isoformat()}
    dispatcher, events = await propose(sid, values, locale="sv")
    assert responses(dispatcher) == [
        "utter_plan_counter_intro",
        "utter_plan_reason_first_date_too_late",
        "utter_plan_reason_too_long",
        "utter_plan_summary_no_costs",
    ]
    reason = dispatcher.messages[2]
    assert reason["amount_money"] == {"amount": "708.34", "currency": "SEK"} and reason["max_months"] == 6
    offer = slots(events)["plan_offer"]
    assert offer["countered"] is True

    dispatcher = CollectingDispatcher()
    t = tracker(sid, slots={**values, "plan_offer": offer, "plan_confirmed": False}, intent="deny", locale="sv")
    await actions.ActionConfirmPlan().run(dispatcher, t, DOMAIN)
    assert responses(dispatcher) == ["utter_plan_refused_by_policy"]
    assert dispatcher.messages[0]["total_money"] == {"amount": "4250.00", "currency": "SEK"}
    assert await session.scalar(select(PaymentPlan).where(PaymentPlan.debtor_id == anna.id)) is None


async def test_plan_refused_when_the_balance_is_below_the_minimum(session: AsyncSession) -> None:
    sid, emily = await verified(session, "UK-300552")
    await pay(session, emily, 60500, "GBP")
    await session.commit()
    dispatcher = CollectingDispatcher()
    events = await actions.ActionRequestPlan().run(dispatcher, tracker(sid, intent="request_payment_plan"), DOMAIN)
    assert responses(dispatcher) == ["utter_plan_refused_balance_low"]
    assert dispatcher.messages[0]["total_money"] == {"amount": "7.45", "currency": "GBP"}
    assert not any(isinstance(e, dict) and e.get("event") == "followup" for e in events)


async def test_costs_are_itemised_before_confirming(session: AsyncSession) -> None:
    sid, jonas = await verified(session, "DE-200871")  # de: 5 % interest a year
    today = arrangements_service.local_today(jonas)
    values = {"plan_terms": "count:6", "plan_frequency": "monthly", "plan_first_date": today.isoformat()}
    dispatcher, _ = await propose(sid, values, locale="de")
    assert responses(dispatcher) == ["utter_plan_accepted", "utter_plan_summary"]
    summary = dispatcher.messages[1]
    assert summary["rate_percent"] == "5" and summary["fee_money"] == {"amount": "0.00", "currency": "EUR"}
    assert summary["principal_money"]["amount"] == "408.40" and summary["interest_money"]["amount"] != "0.00"
    assert summary["cost_money"] == summary["interest_money"]


async def test_hardship_in_the_conversation_allows_a_token_payment(session: AsyncSession) -> None:
    sid, emily = await verified(session, "UK-300552")
    today = arrangements_service.local_today(emily)
    values = {"plan_terms": "amount:500", "plan_frequency": "weekly", "plan_first_date": today.isoformat()}
    hardship = {"event": "user", "text": "i lost my job", "parse_data": {"intent": {"name": "report_hardship"}}}
    dispatcher, events = await propose(sid, values, events=[hardship])
    assert responses(dispatcher) == ["utter_plan_accepted", "utter_plan_summary_no_costs"]
    assert slots(events)["plan_offer"]["hardship"] is True
    dispatcher, _ = await propose(sid, values)
    assert responses(dispatcher)[:2] == ["utter_plan_counter_intro", "utter_plan_reason_amount_below_minimum"]


async def test_plan_form_validation_reads_free_text(session: AsyncSession) -> None:
    sid, _ = await verified(session, "SE-100234")
    form, dispatcher = actions.ValidatePlanForm(), CollectingDispatcher()
    t = tracker(sid, locale="sv")
    assert await form.validate_plan_terms("500 kr i månaden", dispatcher, t, DOMAIN) == {
        "plan_terms": "amount:50000", "plan_frequency": "monthly",
    }  # fmt: skip
    assert await form.validate_plan_terms("6 delbetalningar", dispatcher, t, DOMAIN) == {"plan_terms": "count:6"}
    assert await form.validate_plan_frequency('/inform{"frequency": "weekly"}', dispatcher, t, DOMAIN) == {
        "plan_frequency": "weekly"
    }
    assert (await form.validate_plan_first_date("den 25:e", dispatcher, t, DOMAIN))["plan_first_date"]
    assert dispatcher.messages == []
    assert await form.validate_plan_terms("50 €", dispatcher, t, DOMAIN) == {"plan_terms": None}  # wrong currency
    assert await form.validate_plan_first_date("2020-01-01", dispatcher, t, DOMAIN) == {"plan_first_date": None}
    assert responses(dispatcher) == ["utter_plan_terms_invalid", "utter_plan_first_date_past"]
    assert dispatcher.messages[0]["example_money"] == {"amount": "200.00", "currency": "SEK"}


async def test_one_message_can_answer_two_questions(session: AsyncSession) -> None:
    sid, emily = await verified(session, "UK-300552")
    today = arrangements_service.local_today(emily)
    dispatcher, t = CollectingDispatcher(), tracker(sid)
    friday = today + timedelta(days=(4 - today.weekday() - 1) % 7 + 1)
    assert await actions.ValidatePromiseForm().validate_promise_amount("£50 on friday", dispatcher, t, DOMAIN) == {
        "promise_amount": "50.00", "promise_date": friday.isoformat(),
    }  # fmt: skip
    assert await actions.ValidatePromiseForm().validate_promise_date("friday, £50", dispatcher, t, DOMAIN) == {
        "promise_date": friday.isoformat(), "promise_amount": "50.00",
    }  # fmt: skip
    only_date = await actions.ValidatePromiseForm().validate_promise_date("28", dispatcher, t, DOMAIN)
    assert list(only_date) == ["promise_date"]  # a bare number answers only the question asked
    terms = await actions.ValidatePlanForm().validate_plan_terms("6", dispatcher, t, DOMAIN)
    assert terms == {"plan_terms": "count:6"}  # not also "the 6th"
    assert dispatcher.messages == []


async def test_promise_prefilled_recorded_and_confirmed_back(session: AsyncSession) -> None:
    sid, emily = await verified(session, "UK-300552")
    friday = arrangements_service.local_today(emily) + timedelta(days=1)
    while friday.weekday() != 4:
        friday += timedelta(days=1)
    dispatcher = CollectingDispatcher()
    t = tracker(sid, text="i'll pay £50 on friday", intent="promise_to_pay")
    events = await actions.ActionRequestPromise().run(dispatcher, t, DOMAIN)
    assert events[-1] == FollowupAction("promise_form")
    filled = slots(events)
    assert filled == {"promise_amount": "50.00", "promise_date": friday.isoformat()}

    dispatcher = CollectingDispatcher()
    events = await actions.ActionRecordPromise().run(dispatcher, tracker(sid, slots=filled), DOMAIN)
    assert responses(dispatcher) == ["utter_promise_recorded"]
    assert dispatcher.messages[0]["amount_money"] == {"amount": "50.00", "currency": "GBP"}
    assert dispatcher.messages[0]["due_date"] == friday.isoformat()
    promise = await session.scalar(select(PaymentPromise).where(PaymentPromise.debtor_id == emily.id))
    assert promise and (promise.amount_minor, promise.due_date, promise.status) == (5000, friday, PromiseStatus.PENDING)
    assert slots(events) == {"promise_amount": None, "promise_date": None}


async def test_promise_validation_limits(session: AsyncSession) -> None:
    sid, lucas = await verified(session, "BR-400918")
    form, dispatcher = actions.ValidatePromiseForm(), CollectingDispatcher()
    t = tracker(sid, locale="pt-BR")
    today = arrangements_service.local_today(lucas)
    assert await form.validate_promise_amount("R$ 200", dispatcher, t, DOMAIN) == {"promise_amount": "200.00"}
    assert await form.validate_promise_amount("tudo", dispatcher, t, DOMAIN) == {"promise_amount": "1250.00"}
    assert await form.validate_promise_date("amanhã", dispatcher, t, DOMAIN) == {
        "promise_date": (today + timedelta(days=1)).isoformat()
    }
    assert dispatcher.messages == []
    assert await form.validate_promise_amount("R$ 2.000", dispatcher, t, DOMAIN) == {"promise_amount": None}
    assert await form.validate_promise_amount("0", dispatcher, t, DOMAIN) == {"promise_amount": None}
    far = (today + timedelta(days=31)).isoformat()
    assert await form.validate_promise_date(far, dispatcher, t, DOMAIN) == {"promise_date": None}
    assert await form.validate_promise_date("2020-01-01", dispatcher, t, DOMAIN) == {"promise_date": None}
    assert responses(dispatcher) == [
        "utter_promise_amount_too_high",
        "utter_promise_amount_invalid",
        "utter_promise_date_too_far",
        "utter_promise_date_past",
    ]
    assert dispatcher.messages[2]["latest_date"] == (today + timedelta(days=30)).isoformat()


def asked(slot: str, text: str, intent: str, **latest: Any) -> Any:
    """A tracker whose form asked for `slot` and got `text` (classified as `intent`) back."""
    t = make_tracker(uuid.uuid4().hex, text=text, intent=intent, **latest)
    t.events.extend([
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
    ])  # fmt: skip
    return t


async def test_an_answer_counts_whatever_the_nlu_thought_and_interruptions_reject_the_form() -> None:
    plan, promise, domain = actions.ValidatePlanForm(), actions.ValidatePromiseForm(), DOMAIN
    # "tomorrow" read as goodbye, "no, 6 payments" as deny: still answers.
    assert await plan.extract_plan_first_date(None, asked("plan_first_date", "tomorrow", "goodbye"), domain) == {
        "plan_first_date": "tomorrow"
    }
    assert await plan.extract_plan_terms(None, asked("plan_terms", "no, 6 payments", "deny"), domain) == {
        "plan_terms": "no, 6 payments"
    }
    # "bye", "are you a bot?", "stop": nothing extracted, so Rasa rejects the form and the rules act.
    assert await plan.extract_plan_first_date(None, asked("plan_first_date", "bye", "goodbye"), domain) == {}
    assert (
        await promise.extract_promise_amount(None, asked("promise_amount", "are you a bot", "bot_challenge"), domain)
        == {}
    )
    # Anything else is the answer, right or wrong (validation then says what is wrong).
    assert await promise.extract_promise_amount(None, asked("promise_amount", "hmm", "greet"), domain) == {
        "promise_amount": "hmm"
    }
    # Not asked for this slot: the date of birth that finished verification is no payment date.
    assert await promise.extract_promise_date(None, asked("dob", "21/07/1992", "inform"), domain) == {}
    button = asked("plan_frequency", '/inform{"frequency": "weekly"}', "inform",
                   entities=[{"entity": "frequency", "value": "weekly"}])  # fmt: skip
    assert await plan.extract_plan_frequency(None, button, domain) == {"plan_frequency": "weekly"}


async def test_slots_cleared_at_the_start_are_not_complained_about(session: AsyncSession) -> None:
    sid, _ = await verified(session, "UK-300552")
    dispatcher = CollectingDispatcher()
    assert await actions.ValidatePlanForm().validate_plan_terms(None, dispatcher, tracker(sid), DOMAIN) == {
        "plan_terms": None
    }
    assert dispatcher.messages == []


async def test_only_an_answer_to_the_question_confirms_a_plan() -> None:
    form = actions.ValidatePlanConfirmForm()
    assert await form.extract_plan_confirmed(None, asked("plan_confirmed", "yes", "affirm"), DOMAIN) == {
        "plan_confirmed": True
    }
    assert await form.extract_plan_confirmed(None, asked("plan_confirmed", "nope", "deny"), DOMAIN) == {
        "plan_confirmed": False
    }
    assert await form.extract_plan_confirmed(None, asked("plan_confirmed", "hmm weekly?", "inform"), DOMAIN) == {}
    # "yes, from tomorrow" answered the first-date question: it agrees to nothing yet.
    assert await form.extract_plan_confirmed(None, asked("plan_first_date", "yes, tomorrow", "affirm"), DOMAIN) == {}
