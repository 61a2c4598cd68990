"""Hardship from the assistant (SQLite + PostgreSQL): empathetic answer with the free debt advice and
options of the jurisdiction (the debtor's country once verified; before, the best guess for a
stranger), a specialist in the queue first, and each option doing what it says."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import hardship as actions
from bot.actions.payments import ActionPayNow
from bot.actions.verification import ActionVerifyIdentity
from engine.conversations import service as conversations_service
from handoff.models import Reason
from locales import SUPPORTED_LOCALES
from money.hardship import service as hardship_service
from money.hardship.models import HardshipCase, HardshipOption
from money.holds import service as holds_service
from money.holds.models import HoldReason
from people.debtors import service as debtors_service
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction
from tests.bot.actions.conftest import make_tracker
from tests.bot.actions.test_handoff import OPEN, agent_online, open_case, rendered, responses, user

DOMAIN: dict = {}
REFERENCE = {"en": "UK-300552", "sv": "SE-100234", "de": "DE-200871", "pt-BR": "BR-400918"}
PLAN_SLOTS = {k: None for k in ("plan_terms", "plan_frequency", "plan_first_date", "plan_offer", "plan_confirmed")}


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    from handoff import service as handoff_service

    monkeypatch.setattr(handoff_service, "utcnow", lambda: OPEN)
    monkeypatch.setattr(actions, "utcnow", lambda: OPEN)


def sender() -> str:
    return uuid.uuid4().hex


def choose(option: str, sid: str, **kwargs: Any) -> Any:
    payload = f'/choose_hardship_option{{"hardship_option": "{option}"}}'
    tracker = make_tracker(
        sid, text=payload, intent="choose_hardship_option",
        entities=[{"entity": "hardship_option", "value": option}], **kwargs,
    )  # fmt: skip
    tracker.events.extend(
        [user("I lost my job and can't pay", "report_hardship"), user(payload, "choose_hardship_option")]
    )
    return tracker


async def verified(session: AsyncSession, locale: str) -> tuple[str, Debtor]:
    who = await debtors_service.get_by_reference(session=session, reference=REFERENCE[locale])
    assert who
    sid = sender()
    await conversations_service.mark_verified(session=session, conversation_id=sid, debtor=who)
    await session.commit()
    return sid, who


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_hardship_queues_a_specialist_first_with_advice_and_the_options_of_the_strangers_jurisdiction(
    session: AsyncSession, locale: str
) -> None:
    sid = sender()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sid, text="I lost my job", intent="report_hardship", locale=locale)
    assert await actions.ActionReportHardship().run(dispatcher, tracker, DOMAIN) == []
    # Nobody online: by when the specialist gets back, then advice and the options (with a call-back).
    assert responses(dispatcher) == ["utter_hardship_specialist_offline", "utter_hardship_options"]
    case = await open_case(session, sid)
    assert (case.reason, case.priority) == (Reason.HARDSHIP, 2)
    [recorded] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    assert recorded.debtor_id is None and recorded.locale == locale and recorded.option is None
    assert case.reasons[0]["hardship_case"] == recorded.id

    # Nobody identified on web chat: the jurisdiction the language maps to (config/jurisdictions.yml).
    where = jurisdiction.for_stranger(channel="webchat", address=sid, locale=locale)
    advice = where.advice
    text, buttons = rendered(dispatcher.messages[1], locale)
    for part in (advice.name, advice.phone, advice.url):
        assert part is None or part in text
    payloads = [b["payload"] for b in buttons]
    expected = ["pause", "token_plan", "breathing_space"] if where.country == "GB" else ["pause", "token_plan"]
    assert payloads == [f'/choose_hardship_option{{"hardship_option": "{o}"}}' for o in expected] + [
        "/request_callback"
    ]
    assert "30" in buttons[0]["title"]
    first, _ = rendered(dispatcher.messages[0], locale)
    assert "{until}" not in first and "{" not in text


async def test_with_an_agent_online_the_reply_says_how_soon(session: AsyncSession) -> None:
    await agent_online(session)
    dispatcher = CollectingDispatcher()
    await actions.ActionReportHardship().run(dispatcher, make_tracker(sender(), intent="report_hardship"), DOMAIN)
    assert responses(dispatcher) == ["utter_hardship_specialist_online", "utter_hardship_options"]
    assert dispatcher.messages[0]["minutes"] == 10
    _, buttons = rendered(dispatcher.messages[1], "en")
    assert "/request_callback" not in [b["payload"] for b in buttons]


async def test_hardship_while_already_queued_is_still_recorded_and_raises_the_priority(session: AsyncSession) -> None:
    from bot.actions.handoff import ActionRequestHuman

    sid = sender()
    await ActionRequestHuman().run(CollectingDispatcher(), make_tracker(sid, intent="request_human"), DOMAIN)
    dispatcher = CollectingDispatcher()
    await actions.ActionReportHardship().run(dispatcher, make_tracker(sid, intent="report_hardship"), DOMAIN)
    assert responses(dispatcher) == ["utter_hardship_specialist_waiting", "utter_hardship_options"]
    case = await open_case(session, sid)
    assert (case.reason, case.priority) == (Reason.HARDSHIP, 2)
    assert len(await hardship_service.for_conversation(session=session, conversation_id=sid)) == 1


async def test_a_verified_debtor_gets_their_own_countrys_advice(session: AsyncSession) -> None:
    sid, anna = await verified(session, "sv")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sid, intent="report_hardship", locale="en", slots={"verified": True})
    await actions.ActionReportHardship().run(dispatcher, tracker, DOMAIN)
    text, buttons = rendered(dispatcher.messages[1], "en")  # in English ...
    assert "hallakonsument.se" in text  # ... with the Swedish service, and no Breathing Space
    assert len(buttons) == 3
    [case] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    assert case.debtor_id == anna.id and case.locale == "en"  # the language spoken; the rules are Sweden's


async def test_pause_before_verification_asks_who_it_is_then_pauses_everything(session: AsyncSession) -> None:
    sid = sender()
    await actions.ActionReportHardship().run(
        CollectingDispatcher(), make_tracker(sid, intent="report_hardship"), DOMAIN
    )
    dispatcher = CollectingDispatcher()
    events = await actions.ActionChooseHardshipOption().run(dispatcher, choose("pause", sid), DOMAIN)
    assert responses(dispatcher) == ["utter_verify_intro"]
    assert events == [
        SlotSet("hardship_option", None),
        SlotSet("requested_topic", "hardship_pause"),
        FollowupAction("verify_identity_form"),
    ]
    [case] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    assert case.option is HardshipOption.PAUSE and case.debtor_id is None

    emily = await debtors_service.get_by_reference(session=session, reference="UK-300552")
    assert emily
    assert await holds_service.paused_debt_ids(session=session, debtor_id=emily.id) == set()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        sid, slots={"reference": "UK-300552", "dob": "1992-07-21", "requested_topic": "hardship_pause"}
    )
    events = await ActionVerifyIdentity().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_verified", "utter_hardship_paused"]
    assert SlotSet("verified", True) in events
    await assert_paused(session, emily, case_id=case.id, date=dispatcher.messages[1]["resume_date"])


async def assert_paused(session: AsyncSession, debtor: Debtor, *, case_id: int, date: str) -> None:
    debtor_id = debtor.id
    session.expire_all()
    [hold] = await holds_service.active(session=session, debtor_id=debtor_id)
    assert hold.reason == HoldReason.HARDSHIP and hold.debt_id is None and hold.source_id == case_id
    assert hold.ends_at is not None and abs(hold.ends_at - (OPEN + timedelta(days=30))) < timedelta(seconds=5)
    assert date == (OPEN + timedelta(days=30)).date().isoformat()
    debts = {d.id for d in await debtors_service.open_debts(session=session, debtor_id=debtor_id)}
    assert debts and await holds_service.paused_debt_ids(session=session, debtor_id=debtor_id) == debts
    # Over once the pause has run out.
    later = OPEN + timedelta(days=31)
    assert await holds_service.paused_debt_ids(session=session, debtor_id=debtor_id, now=later) == set()
    case = await session.get(HardshipCase, case_id)
    assert case is not None and case.debtor_id == debtor_id


async def test_pause_when_verified_holds_every_debt_once(session: AsyncSession) -> None:
    sid, anna = await verified(session, "sv")
    anna_id = anna.id
    await actions.ActionReportHardship().run(
        CollectingDispatcher(), make_tracker(sid, intent="report_hardship", slots={"verified": True}), DOMAIN
    )
    dispatcher = CollectingDispatcher()
    events = await actions.ActionChooseHardshipOption().run(
        dispatcher, choose("pause", sid, slots={"verified": True}, locale="sv"), DOMAIN
    )
    assert events == [SlotSet("hardship_option", None)]
    assert responses(dispatcher) == ["utter_hardship_paused"]
    [case] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    await assert_paused(session, anna, case_id=case.id, date=dispatcher.messages[0]["resume_date"])
    text, _ = rendered(dispatcher.messages[0], "sv")
    assert "{" not in text
    # Chosen again: the running pause stands, no second hold.
    again = CollectingDispatcher()
    await actions.ActionChooseHardshipOption().run(again, choose("pause", sid, slots={"verified": True}), DOMAIN)
    assert again.messages[0]["resume_date"] == dispatcher.messages[0]["resume_date"]
    assert len(await holds_service.active(session=session, debtor_id=anna_id)) == 1
    # The specialist sees the choice on the queue entry.
    assert (await open_case(session, sid)).reasons[-1]["hardship_option"] == "pause"
    # Nothing is asked for while paused: no payment link.
    paying = CollectingDispatcher()
    await ActionPayNow().run(paying, make_tracker(sid, intent="pay_now", slots={"verified": True}), DOMAIN)
    assert responses(paying) == ["utter_collection_paused"]


async def test_token_plan_where_policy_allows_it_starts_the_plan_flow(session: AsyncSession) -> None:
    sid, _ = await verified(session, "en")
    dispatcher = CollectingDispatcher()
    tracker = choose("token_plan", sid, slots={"verified": True, **PLAN_SLOTS})
    events = await actions.ActionChooseHardshipOption().run(dispatcher, tracker, DOMAIN)
    # No earlier report in this conversation: the choice itself queues the specialist (announced).
    assert responses(dispatcher) == ["utter_handoff_offline", "utter_hardship_token_plan_start"]
    assert events[0] == SlotSet("hardship_option", None) and events[-1] == FollowupAction("plan_form")
    [case] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    assert case.option is HardshipOption.TOKEN_PLAN


async def test_token_plan_while_everything_is_paused_goes_to_the_specialist(session: AsyncSession) -> None:
    sid, _ = await verified(session, "en")
    slots = {"verified": True, **PLAN_SLOTS}
    await actions.ActionChooseHardshipOption().run(CollectingDispatcher(), choose("pause", sid, slots=slots), DOMAIN)
    dispatcher = CollectingDispatcher()
    events = await actions.ActionChooseHardshipOption().run(dispatcher, choose("token_plan", sid, slots=slots), DOMAIN)
    assert responses(dispatcher) == ["utter_hardship_token_plan_specialist"]
    assert events == [SlotSet("hardship_option", None)]
    options = [c.option for c in await hardship_service.for_conversation(session=session, conversation_id=sid)]
    assert options == [HardshipOption.PAUSE, HardshipOption.TOKEN_PLAN]


async def test_token_plan_before_verification_verifies_then_continues_with_the_plan(session: AsyncSession) -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionChooseHardshipOption().run(
        dispatcher, choose("token_plan", sender(), slots=PLAN_SLOTS), DOMAIN
    )
    assert responses(dispatcher)[-1] == "utter_verify_intro"
    assert SlotSet("requested_topic", "payment_plan") in events and events[-1] == FollowupAction("verify_identity_form")


async def test_token_plan_where_policy_does_not_allow_it_goes_to_the_specialist(session: AsyncSession) -> None:
    sid = sender()
    await actions.ActionReportHardship().run(
        CollectingDispatcher(), make_tracker(sid, intent="report_hardship", locale="de"), DOMAIN
    )
    dispatcher = CollectingDispatcher()
    events = await actions.ActionChooseHardshipOption().run(dispatcher, choose("token_plan", sid, locale="de"), DOMAIN)
    assert responses(dispatcher) == ["utter_hardship_token_plan_specialist"]
    assert events == [SlotSet("hardship_option", None)]
    case = await open_case(session, sid)
    assert case.reasons[-1]["hardship_option"] == "token_plan"
    [recorded] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    assert recorded.option is HardshipOption.TOKEN_PLAN


async def test_breathing_space_is_explained_with_the_advice_contact_in_england(session: AsyncSession) -> None:
    sid = sender()
    dispatcher = CollectingDispatcher()
    await actions.ActionChooseHardshipOption().run(dispatcher, choose("breathing_space", sid), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_offline", "utter_hardship_breathing_space"]
    text, _ = rendered(dispatcher.messages[1], "en")
    assert "National Debtline" in text and "0808 808 4000" in text and "60 days" in text
    [case] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    assert case.option is HardshipOption.BREATHING_SPACE


async def test_an_option_the_locale_does_not_have_is_refused_politely(session: AsyncSession) -> None:
    sid = sender()
    for option in ("breathing_space", "lottery"):
        dispatcher = CollectingDispatcher()
        events = await actions.ActionChooseHardshipOption().run(dispatcher, choose(option, sid, locale="sv"), DOMAIN)
        assert responses(dispatcher) == ["utter_hardship_option_unavailable"] and events == [
            SlotSet("hardship_option", None)
        ]
        _, buttons = rendered(dispatcher.messages[0], "sv")
        assert '"breathing_space"' not in " ".join(b["payload"] for b in buttons)
    assert await hardship_service.for_conversation(session=session, conversation_id=sid) == []


COUNTRIES = ("GB", "SE", "DE", "BR")
HOME = {"GB": "en", "SE": "sv", "DE": "de", "BR": "pt-BR"}


async def placed(session: AsyncSession, country: str) -> tuple[str, Debtor]:
    """A verified debtor of `country` (their stored language that country's own)."""
    who = Debtor(
        reference=f"HJ-{uuid.uuid4().hex[:10]}", name="Hanna Hardship", date_of_birth=date(1985, 4, 12),
        locale=HOME[country], timezone=jurisdiction.for_country(country).timezone, country=country,
    )  # fmt: skip
    session.add(who)
    await session.flush()
    sid = sender()
    await conversations_service.mark_verified(session=session, conversation_id=sid, debtor=who)
    await session.commit()
    return sid, who


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_a_verified_debtor_gets_their_jurisdictions_advice_and_options_in_the_chats_language(
    session: AsyncSession, country: str, locale: str
) -> None:
    sid, _ = await placed(session, country)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sid, intent="report_hardship", locale=locale, slots={"verified": True})
    await actions.ActionReportHardship().run(dispatcher, tracker, DOMAIN)
    text, buttons = rendered(dispatcher.messages[1], locale)
    where = jurisdiction.for_country(country)
    assert text.startswith(catalog_opening("utter_hardship_options", locale)) and where.advice.name in text
    for other in COUNTRIES:
        if other != country:
            assert jurisdiction.for_country(other).advice.name not in text
    offered = [b["payload"] for b in buttons]
    assert any('"breathing_space"' in p for p in offered) is (country == "GB")


async def test_a_german_debtor_chatting_in_english_hears_of_the_schuldnerberatung_in_english(
    session: AsyncSession,
) -> None:
    sid, jonas = await placed(session, "DE")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(sid, intent="report_hardship", locale="en", slots={"verified": True})
    await actions.ActionReportHardship().run(dispatcher, tracker, DOMAIN)
    text, buttons = rendered(dispatcher.messages[1], "en")
    assert text.startswith("Free, confidential debt advice is available from Schuldnerberatung (Verbraucherzentrale)")
    assert "https://www.meine-schulden.de" in text and "National Debtline" not in text
    assert [b["title"] for b in buttons][:2] == ["Pause for 30 days", "Small token payments"]
    # German rules for token payments too: no token plan in the chat, the specialist sets it up.
    dispatcher = CollectingDispatcher()
    await actions.ActionChooseHardshipOption().run(
        dispatcher, choose("token_plan", sid, locale="en", slots={"verified": True}), DOMAIN
    )
    assert responses(dispatcher) == ["utter_hardship_token_plan_specialist"]
    [case, *_] = await hardship_service.for_conversation(session=session, conversation_id=sid)
    assert case.debtor_id == jonas.id and case.locale == "en"


def catalog_opening(key: str, locale: str) -> str:
    from bot.actions.common import catalog

    return catalog.text(key, locale).split("{")[0]
