"""Hardship: an empathetic answer, free debt advice and the options of the jurisdiction, and a
specialist in the queue. Works before verification; only a pause (which touches the debtor's
accounts) needs the person verified first.

Which jurisdiction's options and advice apply: the debtor's own once verified (their country,
people/jurisdiction), before that the best guess for a stranger (the country of the number they
write from, else the one their language maps to). The texts are always in the conversation's
language: a German case chatting in English hears of the Schuldnerberatung, in English.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.arrangements import ActionRequestPlan
from bot.actions.common import catalog, db, locale_of
from bot.actions.escalation import escalate
from bot.actions.gate import start_verification
from core.database import utcnow
from engine.conversations import service as conversations_service
from handoff import config as handoff_config
from handoff import service as handoff_service
from handoff.config import HardshipConfig
from handoff.models import Reason
from money.hardship import service as hardship_service
from money.hardship.models import HardshipCase, HardshipOption
from money.holds import service as holds_service
from money.holds.models import HoldReason
from money.policies.service import policy_for
from people.debtors import service as debtors_service
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction
from people.jurisdiction.config import Contact, Jurisdiction

OPTION_SLOT = "hardship_option"
PAUSE_TOPIC = "hardship_pause"  # requested_topic while verifying for a pause (bot/actions/verification.py)
# The queue notice a new case gets, reworded for hardship (same arguments).
SPECIALIST = {
    "utter_handoff_queued": "utter_hardship_specialist_online",
    "utter_handoff_offline": "utter_hardship_specialist_offline",
}


async def verified_debtor(session: AsyncSession, tracker: Tracker) -> Debtor | None:
    """The slot alone is not enough (it could be forged): the conversation must be verified too."""
    conversation = await conversations_service.ensure(session=session, conversation_id=tracker.sender_id)
    if not (tracker.get_slot("verified") and conversation.debtor_id):
        return None
    return await debtors_service.get(session=session, debtor_id=conversation.debtor_id)


async def jurisdiction_here(session: AsyncSession, tracker: Tracker, debtor: Debtor | None) -> Jurisdiction:
    """The verified debtor's jurisdiction; before verification the best guess for a stranger."""
    if debtor is not None:
        return jurisdiction.of(debtor)
    conversation = await conversations_service.ensure(session=session, conversation_id=tracker.sender_id)
    return jurisdiction.for_stranger(
        channel=conversation.channel, address=conversation.external_id, locale=locale_of(tracker)
    )


def offered(config: HardshipConfig) -> tuple[HardshipOption, ...]:
    """The jurisdiction's options (Breathing Space only where the scheme exists and is configured)."""
    options = []
    for name in config.options:
        option = HardshipOption(name)
        if option is HardshipOption.BREATHING_SPACE and not config.breathing_space_days:
            continue
        options.append(option)
    return tuple(options)


def choices(config: HardshipConfig, *, callback: bool) -> list[dict[str, Any]]:
    """One button per option (payload-only intent), plus a call-back when nobody is online."""
    buttons: list[dict[str, Any]] = [
        {
            "payload": f'/choose_hardship_option{{"{OPTION_SLOT}": "{option.value}"}}',
            "label": f"hardship_option_{option.value}",
            "days": config.pause_days,
        }
        for option in offered(config)
    ]
    if callback:
        buttons.append({"payload": "/request_callback", "label": "hardship_option_callback"})
    return buttons


def advice_text(advice: Contact, locale: str) -> str:
    """The jurisdiction's free debt-advice service with whatever contact the config has for it,
    in the conversation's words."""
    if advice.phone and advice.url:
        key = "hardship_advice_phone_url"
    elif advice.phone:
        key = "hardship_advice_phone"
    elif advice.url:
        key = "hardship_advice_url"
    else:
        return advice.name
    arguments = {"name": advice.name, "phone": advice.phone, "url": advice.url}
    return catalog.render(key, locale, None, arguments).text


def chosen_option(tracker: Tracker) -> str | None:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == OPTION_SLOT and entity.get("value"):
            return str(entity["value"])
    value = tracker.get_slot(OPTION_SLOT)
    return str(value) if value else None


class ActionReportHardship(Action):
    def name(self) -> str:
        return "action_report_hardship"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        locale = locale_of(tracker)
        async with db() as session:
            debtor = await verified_debtor(session, tracker)
            where = await jurisdiction_here(session, tracker, debtor)
            config = handoff_config.load().hardship_for(where.country)
            case = await hardship_service.record(
                session=session,
                conversation_id=tracker.sender_id,
                locale=locale,
                debtor_id=debtor.id if debtor else None,
            )
            # Worded for hardship below, so the generic queue notice is not sent as well.
            escalation = await escalate(
                dispatcher, tracker, session=session, reason=Reason.HARDSHIP, detail={"hardship_case": case.id},
                announce=False,
            )  # fmt: skip
            key, arguments = await handoff_service.notice(session=session, locale=locale)
        offline = key == "utter_handoff_offline"
        if escalation.created:
            dispatcher.utter_message(response=SPECIALIST[key], **arguments)
        else:
            dispatcher.utter_message(response="utter_hardship_specialist_waiting")
        dispatcher.utter_message(
            response="utter_hardship_options",
            advice=advice_text(where.advice, locale),
            choices=choices(config, callback=offline),
        )
        return []


class ActionChooseHardshipOption(Action):
    """Every choice is recorded on the hardship case and on the specialist's queue entry."""

    def name(self) -> str:
        return "action_choose_hardship_option"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        locale = locale_of(tracker)
        reset: list[EventType] = [SlotSet(OPTION_SLOT, None)]
        async with db() as session:
            debtor = await verified_debtor(session, tracker)
            where = await jurisdiction_here(session, tracker, debtor)
            config = handoff_config.load().hardship_for(where.country)
            option = next((o for o in offered(config) if o.value == chosen_option(tracker)), None)
            if option is None:
                key, _ = await handoff_service.notice(session=session, locale=locale)
                dispatcher.utter_message(
                    response="utter_hardship_option_unavailable",
                    choices=choices(config, callback=key == "utter_handoff_offline"),
                )
                return reset
            case = await hardship_service.latest(session=session, conversation_id=tracker.sender_id)
            if case is None:  # a button from an earlier conversation
                case = await hardship_service.record(session=session, conversation_id=tracker.sender_id, locale=locale)
            case = await hardship_service.choose(
                session=session, case_id=case.id, option=option, debtor_id=debtor.id if debtor else None
            )
            # The specialist sees the choice in the queue (commits; announced only when the earlier
            # case was already closed and this opens a new one).
            await escalate(
                dispatcher, tracker, session=session, reason=Reason.HARDSHIP,
                detail={"hardship_case": case.id, "hardship_option": option.value},
            )  # fmt: skip
            if option is HardshipOption.PAUSE and debtor is not None:
                await apply_pause(dispatcher, session=session, conversation_id=tracker.sender_id, debtor=debtor)
                return reset
            plan_here = option is HardshipOption.TOKEN_PLAN and await token_plan_here(session, where.country, debtor)
        if option is HardshipOption.PAUSE:  # the accounts are touched only once we know who it is
            return [*reset, *await start_verification(dispatcher, tracker, topic=PAUSE_TOPIC)]
        if option is HardshipOption.TOKEN_PLAN:
            if plan_here:
                dispatcher.utter_message(response="utter_hardship_token_plan_start")
                # The plan flow reads the hardship report in this conversation and allows token amounts.
                return [*reset, *await ActionRequestPlan().run(dispatcher, tracker, domain)]
            dispatcher.utter_message(response="utter_hardship_token_plan_specialist")
            return reset
        dispatcher.utter_message(
            response="utter_hardship_breathing_space",
            advice=advice_text(where.advice, locale),
            days=config.breathing_space_days,
        )
        return reset


async def token_plan_here(session: AsyncSession, country: str, debtor: Debtor | None) -> bool:
    """The debtor can set up a token plan in the chat: the jurisdiction's policy allows token
    payments in hardship, and (once known) not every open debt is on hold. Otherwise the specialist does it."""
    if not policy_for(country=country).plan.token_payment_in_hardship:
        return False
    if debtor is None:
        return True
    paused = await holds_service.paused_debt_ids(session=session, debtor_id=debtor.id)
    return any(d.id not in paused for d in await debtors_service.open_debts(session=session, debtor_id=debtor.id))


def resume_date(ends_at: datetime, debtor: Debtor) -> str:
    return ends_at.astimezone(ZoneInfo(debtor.timezone)).date().isoformat()


async def apply_pause(
    dispatcher: CollectingDispatcher,
    *,
    session: AsyncSession,
    conversation_id: str,
    debtor: Debtor,
    locale: str | None = None,
    now: datetime | None = None,
) -> HardshipCase:
    """Hold every debt of the debtor for their jurisdiction's pause (once: choosing it again keeps
    the running pause) and say until when. Also run after verification (topic hardship_pause)."""
    now = now or utcnow()
    config = handoff_config.load().hardship_for(jurisdiction.country_of(debtor))
    case = await hardship_service.latest(session=session, conversation_id=conversation_id)
    if case is None:
        case = await hardship_service.record(
            session=session, conversation_id=conversation_id, locale=locale or debtor.locale
        )
    case = await hardship_service.choose(
        session=session, case_id=case.id, option=HardshipOption.PAUSE, debtor_id=debtor.id, now=now
    )
    extra = {"locale": locale} if locale else {}
    if not await debtors_service.open_debts(session=session, debtor_id=debtor.id):
        await session.commit()
        dispatcher.utter_message(response="utter_no_open_debts", **extra)
        return case
    running = [
        hold.ends_at
        for hold in await holds_service.active(session=session, debtor_id=debtor.id, now=now)
        if hold.reason == HoldReason.HARDSHIP and hold.debt_id is None and hold.ends_at is not None
    ]
    ends_at = max(running) if running else now + timedelta(days=config.pause_days)
    if not running:
        await holds_service.place(
            session=session, debtor_id=debtor.id, reason=HoldReason.HARDSHIP, debt_id=None, source_id=case.id,
            ends_at=ends_at, now=now,
        )  # fmt: skip
    await session.commit()
    dispatcher.utter_message(response="utter_hardship_paused", resume_date=resume_date(ends_at, debtor), **extra)
    return case
