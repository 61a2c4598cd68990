"""Disputes, the chat side: which debt and why, then a case that pauses collection on the debt, a
person in the queue, and an acknowledgement saying what happens next.

Storage and holds are in disputes.service, reading answers in disputes.reading; these actions
carry values between them and the conversation (rules in bot/data/disputes.yml).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.arrangements import verified_debtor
from bot.actions.common import db
from bot.actions.escalation import escalate
from bot.actions.gate import start_verification
from handoff.models import Reason
from handoff.service import HandoffError
from money.arrangements.replies import answering
from money.disputes import config as disputes_config
from money.disputes import reading
from money.disputes import service as disputes_service
from money.disputes.models import Dispute, DisputeReason
from people.debtors import service as debtors_service
from people.debtors.models import Debtor
from people.debtors.service import DebtLine

log = logging.getLogger(__name__)

FORM, TOPIC = "dispute_form", "dispute_debt"
SLOTS = ("dispute_debt", "dispute_reason", "dispute_details")
CODES = frozenset(r.value for r in DisputeReason)
# Intents that interrupt the form when the message does not answer its question (the rules in
# bot/data/disputes.yml act); "it's not mine" read as dispute_debt is an answer, never one.
INTERRUPTIONS = frozenset(
    {"deny", "goodbye", "bot_challenge", "opt_out", "report_hardship", "request_human", "change_language",
     "check_balance"}
)  # fmt: skip


def clear() -> list[EventType]:
    return [SlotSet(slot, None) for slot in SLOTS]


def intent_of(message: dict[str, Any]) -> str | None:
    return ((message.get("parse_data") or message).get("intent") or {}).get("name")


def entity(message: dict[str, Any], name: str) -> str | None:
    for found in (message.get("parse_data") or message).get("entities") or []:
        if found.get("entity") == name and found.get("value"):
            return str(found["value"])
    return None


def topic_message(tracker: Tracker) -> dict[str, Any]:
    """The message that asked for the dispute; after verification it is some turns back."""
    latest: dict[str, Any] = tracker.latest_message or {}
    if intent_of(latest) == TOPIC:
        return latest
    for event in reversed(tracker.events):
        if event.get("event") == "user" and intent_of(event) == TOPIC:
            return dict(event)
    return {}


def reason_in(message: dict[str, Any]) -> DisputeReason | None:
    """A reason button, or a reason said in so many words ("this isn't mine")."""
    code = entity(message, "dispute_reason")
    if code in CODES:
        return DisputeReason(code)
    return reading.read_reason(str(message.get("text") or ""), answering=False)


def with_details(known: str | None, text: str) -> str | None:
    """The debtor's own words so far, for the agent (button presses are not words)."""
    text = text.strip()
    if not text or reading.is_payload(text) or (known and text in known):
        return known
    return f"{known}\n{text}" if known else text


@dataclass(frozen=True)
class Options:
    """What a verified debtor can dispute: their open debts, and the cases already open on them."""

    debtor: Debtor
    debts: tuple[DebtLine, ...]
    disputed: dict[int, Dispute]

    @property
    def undisputed(self) -> tuple[DebtLine, ...]:
        return tuple(d for d in self.debts if d.id not in self.disputed)

    def by_reference(self, reference: str) -> DebtLine | None:
        return next((d for d in self.debts if d.reference == reference), None)

    def named(self, message: dict[str, Any]) -> DebtLine | None:
        """The debt a button or the words name ("the telecom one", "NT-7781203")."""
        if (reference := entity(message, "debt_ref")) and (debt := self.by_reference(reference)):
            return debt
        return reading.named_debt(str(message.get("text") or ""), self.debts)


async def load_options(session: AsyncSession, tracker: Tracker) -> Options | None:
    """None when the conversation is not verified (the slot alone is not enough)."""
    debtor = await verified_debtor(session, tracker)
    if debtor is None:
        return None
    balance = await debtors_service.open_balance(session=session, debtor_id=debtor.id)
    disputes = await disputes_service.open_disputes(session=session, debtor_id=debtor.id)
    return Options(debtor=debtor, debts=balance.debts, disputed={d.debt_id: d for d in disputes})


async def options(tracker: Tracker) -> Options | None:
    async with db() as session:
        return await load_options(session, tracker)


def already_open(dispatcher: CollectingDispatcher, debt: DebtLine) -> None:
    dispatcher.utter_message(response="utter_dispute_already_open", creditor=debt.creditor, reference=debt.reference)


async def queue(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: AsyncSession, detail: dict[str, Any]
) -> None:
    """A person reviews every dispute: the conversation joins the queue with reason dispute."""
    try:
        await escalate(dispatcher, tracker, session=session, reason=Reason.DISPUTE, detail=detail)
    except HandoffError:  # the conversation changed hands meanwhile: the case is stored anyway
        log.warning("disputes.escalation_failed", extra={"conversation_id": tracker.sender_id})
        await session.rollback()


class ActionRequestDispute(Action):
    """Gate, then the form with what the request already said (which debt, why)."""

    def name(self) -> str:
        return "action_request_dispute"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        message = topic_message(tracker)
        text = str(message.get("text") or "")
        reason = reason_in(message)
        async with db() as session:
            opts = await load_options(session, tracker)
            if opts is None:
                return [*clear(), *await start_verification(dispatcher, tracker, topic=TOPIC)]
            if not opts.debts:  # nothing open to pause: a person looks at what they mean
                dispatcher.utter_message(response="utter_dispute_no_debts")
                detail = {
                    "dispute_id": None,
                    "debt_reference": None,
                    "dispute_reason": reason.value if reason else None,
                }
                await queue(dispatcher, tracker, session, detail)
                return clear()
        debt = opts.named(message) or (opts.debts[0] if len(opts.debts) == 1 else None)
        if debt is not None and debt.id in opts.disputed:
            already_open(dispatcher, debt)
            return clear()
        if not opts.undisputed:  # every open debt is already being reviewed
            for each in opts.debts:
                already_open(dispatcher, each)
            return clear()
        known: list[EventType] = []
        if debt is not None:
            known.append(SlotSet("dispute_debt", debt.reference))
        if reason is not None:
            known.append(SlotSet("dispute_reason", reason.value))
        if details := with_details(None, text):
            known.append(SlotSet("dispute_details", details))
        return [*clear(), *known, FollowupAction(FORM)]


class ActionAskDisputeDebt(Action):
    """Which debt: one button per open debt not already disputed (creditor and reference); one
    that is can still be named, and is then said to be under review."""

    def name(self) -> str:
        return "action_ask_dispute_debt"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        opts = await options(tracker)
        choices = [
            {
                "payload": f"/{TOPIC}{json.dumps({'debt_ref': d.reference})}",
                "label": "dispute_choice_button",
                "creditor": d.creditor,
                "reference": d.reference,
                "due_money": {"amount": str(d.amount), "currency": d.currency},
            }
            for d in ((opts.undisputed or opts.debts) if opts else ())
        ]
        dispatcher.utter_message(response="utter_ask_dispute_debt", choices=choices)
        return []


class ValidateDisputeForm(FormValidationAction):
    """Takes the message that answers the question asked; an interruption that does not answer
    it extracts nothing, so Rasa rejects the form and the rules act."""

    def name(self) -> str:
        return "validate_dispute_form"

    async def extract_dispute_debt(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not answering(tracker.events, "dispute_debt"):
            return {}
        message: dict[str, Any] = tracker.latest_message or {}
        if reference := entity(message, "debt_ref"):
            return {"dispute_debt": reference}
        if intent_of(message) in INTERRUPTIONS:
            opts = await options(tracker)
            if opts is None or opts.named(message) is None:
                return {}
        return {"dispute_debt": str(message.get("text") or "")}

    async def validate_dispute_debt(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        opts = await options(tracker) if value else None
        if opts is None:
            return {"dispute_debt": None}
        debt = opts.by_reference(str(value)) or reading.named_debt(str(value), opts.debts)
        if debt is None:
            dispatcher.utter_message(response="utter_dispute_debt_invalid")
            return {"dispute_debt": None}
        if existing := opts.disputed.get(debt.id):
            # Nothing more to ask: action_open_dispute says it is already being reviewed.
            return {"dispute_debt": debt.reference, "dispute_reason": existing.reason.value}
        return {"dispute_debt": debt.reference}

    async def extract_dispute_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not answering(tracker.events, "dispute_reason"):
            return {}
        message: dict[str, Any] = tracker.latest_message or {}
        code = entity(message, "dispute_reason")
        if code in CODES:
            return {"dispute_reason": code}
        text = str(message.get("text") or "")
        if intent_of(message) in INTERRUPTIONS and reading.read_reason(text, answering=False) is None:
            return {}
        return {"dispute_reason": text}

    async def validate_dispute_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        if not text or text in CODES:
            return {"dispute_reason": text or None}
        details = with_details(tracker.get_slot("dispute_details"), text)
        reason = reading.read_reason(text, answering=True)
        if reason is None and reading.explains(text) and not reading.reasons_in(text) - {DisputeReason.OTHER}:
            reason = DisputeReason.OTHER  # their own explanation, kept word for word for the agent
        if reason is None:
            dispatcher.utter_message(response="utter_dispute_reason_invalid")
            return {"dispute_reason": None, "dispute_details": details}
        return {"dispute_reason": reason.value, "dispute_details": details}


class ActionOpenDispute(Action):
    """Open the case (collection on the debt pauses), say so and what happens next, and queue
    the conversation for the person who reviews it."""

    def name(self) -> str:
        return "action_open_dispute"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference, code = tracker.get_slot("dispute_debt"), tracker.get_slot("dispute_reason")
        if not reference or code not in CODES:
            return [FollowupAction(FORM)]
        async with db() as session:
            opts = await load_options(session, tracker)
            if opts is None:
                return [*clear(), *await start_verification(dispatcher, tracker, topic=TOPIC)]
            debt = opts.by_reference(str(reference))
            if debt is None:  # paid or closed since it was chosen
                dispatcher.utter_message(response="utter_dispute_debt_invalid")
                return [SlotSet("dispute_debt", None), FollowupAction(FORM)] if opts.debts else clear()
            if debt.id in opts.disputed:
                already_open(dispatcher, debt)
                return clear()
            try:
                dispute = await disputes_service.open_dispute(
                    session=session,
                    debtor_id=opts.debtor.id,
                    debt_id=debt.id,
                    reason=DisputeReason(code),
                    details=tracker.get_slot("dispute_details"),
                    conversation_id=tracker.sender_id,
                )
                await session.commit()
            except Exception:  # the database failed: nothing half-stored, and the debtor is told
                log.exception("disputes.open_failed")
                await session.rollback()
                dispatcher.utter_message(response="utter_dispute_failed")
                return clear()
            dispatcher.utter_message(
                response="utter_dispute_opened",
                creditor=debt.creditor,
                reference=debt.reference,
                reason_key=f"dispute_reason_{code}",
                hint_key=f"dispute_hint_{code}",
                days=disputes_config.load().review_days,
            )
            detail = {"dispute_id": dispute.id, "debt_reference": debt.reference, "dispute_reason": code}
            await queue(dispatcher, tracker, session, detail)
        return clear()
