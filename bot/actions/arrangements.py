"""Installment plans and promises to pay: the chat side (gate, forms, policy answer, confirmation).

Arithmetic and policy live in arrangements.schedule, reading answers and composing replies in
arrangements.replies, storage and payment links in arrangements.service; these actions carry
values between them and the conversation.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.common import catalog, db, locale_config, locale_of
from bot.actions.gate import start_verification
from bot.actions.settings import get_settings
from engine.conversations import service as conversations_service
from money.arrangements import parsing, replies
from money.arrangements import service as arrangements_service
from money.arrangements.replies import Context, Read, Reply
from money.arrangements.schedule import Decision, decide
from money.holds import service as holds_service
from money.ledger.money import to_minor
from payments.providers import provider_for
from people.debtors import service as debtors_service
from people.debtors.models import Debtor
from people.jurisdiction import service as jurisdiction

log = logging.getLogger(__name__)

PLAN_FORM, CONFIRM_FORM, PROMISE_FORM = "plan_form", "plan_confirm_form", "promise_form"
PLAN_SLOTS = ("plan_terms", "plan_frequency", "plan_first_date", "plan_offer", "plan_confirmed")
PROMISE_SLOTS = ("promise_amount", "promise_date")


def clear(slots: tuple[str, ...]) -> list[EventType]:
    return [SlotSet(slot, None) for slot in slots]


def say(dispatcher: CollectingDispatcher, *messages: Reply) -> None:
    for response, arguments in messages:
        dispatcher.utter_message(response=response, **arguments)


async def verified_debtor(session: AsyncSession, tracker: Tracker) -> Debtor | None:
    """The slot alone is not enough (it could be forged): the conversation must be verified too."""
    conversation = await conversations_service.ensure(session=session, conversation_id=tracker.sender_id)
    await session.commit()
    if not (tracker.get_slot("verified") and conversation.debtor_id):
        return None
    return await debtors_service.get(session=session, debtor_id=conversation.debtor_id)


async def load_context(session: AsyncSession, tracker: Tracker, debtor: Debtor, *, for_plan: bool) -> Context | None:
    """None when nothing is open (for a plan: nothing that is not already in an open plan)."""
    basis = await arrangements_service.basis(session=session, debtor_id=debtor.id, exclude_planned=for_plan)
    if basis is None:
        return None
    return Context(
        debtor_id=debtor.id,
        conversation_id=tracker.sender_id,
        basis=basis,
        terms=arrangements_service.terms_for(country=jurisdiction.country_of(debtor), basis=basis),
        today=arrangements_service.local_today(debtor),
        promise_max_days=arrangements_service.promise_max_days(country=jurisdiction.country_of(debtor), basis=basis),
        date_order=locale_config(tracker).date_order,
    )


async def context(tracker: Tracker, *, for_plan: bool) -> Context | None:
    async with db() as session:
        debtor = await verified_debtor(session, tracker)
        return await load_context(session, tracker, debtor, for_plan=for_plan) if debtor else None


async def resolve(dispatcher: CollectingDispatcher, tracker: Tracker, *, for_plan: bool) -> Context | list[EventType]:
    """The debtor's context, or the events that end this turn: verification first when needed,
    nothing open, or (for a plan) the plan already running."""
    slots, topic = (PLAN_SLOTS, "payment_plan") if for_plan else (PROMISE_SLOTS, "promise_to_pay")
    async with db() as session:
        debtor = await verified_debtor(session, tracker)
        if debtor is None:
            return [*clear(slots), *await start_verification(dispatcher, tracker, topic=topic)]
        ctx = await load_context(session, tracker, debtor, for_plan=for_plan)
        if ctx is not None:
            return ctx
        plan = await arrangements_service.active_plan(session=session, debtor_id=debtor.id) if for_plan else None
        # Nothing to arrange because collection is paused (a dispute, a hardship pause), not paid.
        paused = plan is None and bool(await holds_service.paused_debt_ids(session=session, debtor_id=debtor.id))
    if plan:
        say(dispatcher, replies.plan_running(plan))
    else:
        say(dispatcher, ("utter_collection_paused" if paused else "utter_no_open_debts", {}))
    return clear(slots)


class _Validator(FormValidationAction, ABC):
    """Takes the message that answers the question asked (`extract_<slot>`), reads it in the
    debtor's context and says what was wrong, if anything; the form then asks again. Abstract,
    so that the action server does not register it as an action of its own."""

    for_plan = True

    @abstractmethod
    def name(self) -> str: ...

    def answer(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        """Nothing extracted (an interruption) makes Rasa reject the form: the rules act."""
        return replies.answer_to(slot, tracker.latest_message or {}, tracker.events)

    async def read(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slot: str,
        value: Any,
        reader: Callable[[Context, str], Read],
    ) -> dict[str, Any]:
        if value is None:  # a slot cleared when the flow started: nothing to say
            return {slot: None}
        ctx = await context(tracker, for_plan=self.for_plan)
        if ctx is None:
            return {slot: None}
        values, problem = reader(ctx, str(value))
        say(dispatcher, *([problem] if problem else []))
        return values


def extract(slot: str) -> Callable[..., Any]:
    """`extract_<slot>` for a custom-mapped slot: the message, if it answers that question."""

    async def method(
        self: _Validator, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.answer(tracker, slot)

    return method


class ValidatePlanForm(_Validator):
    def name(self) -> str:
        return "validate_plan_form"

    extract_plan_terms = extract("plan_terms")
    extract_plan_frequency = extract("plan_frequency")
    extract_plan_first_date = extract("plan_first_date")

    async def validate_plan_terms(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        hardship = replies.hardship_reported(tracker.latest_message or {}, tracker.events)

        def reader(c: Context, text: str) -> Read:
            terms = replies.read_terms(text, c, hardship=hardship)
            if tracker.get_slot("plan_first_date"):
                return terms
            return replies.also(terms, replies.read_date("plan_first_date", text, c, asked=False))

        return await self.read(dispatcher, tracker, "plan_terms", value, reader)

    async def validate_plan_frequency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self.read(
            dispatcher, tracker, "plan_frequency", value, lambda c, text: replies.read_frequency(text)
        )

    async def validate_plan_first_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self.read(
            dispatcher, tracker, "plan_first_date", value, lambda c, text: replies.read_date("plan_first_date", text, c)
        )


class ValidatePromiseForm(_Validator):
    for_plan = False

    def name(self) -> str:
        return "validate_promise_form"

    extract_promise_amount = extract("promise_amount")
    extract_promise_date = extract("promise_date")

    async def validate_promise_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        def reader(c: Context, text: str) -> Read:
            amount = replies.read_promise_amount(text, c)
            if tracker.get_slot("promise_date"):
                return amount
            return replies.also(amount, replies.read_date("promise_date", text, c, asked=False))

        return await self.read(dispatcher, tracker, "promise_amount", value, reader)

    async def validate_promise_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        def reader(c: Context, text: str) -> Read:
            when = replies.read_date("promise_date", text, c)
            found = parsing.parse_amount(text)
            if tracker.get_slot("promise_amount") or not (found and found[1]):  # "£50", never a bare "25"
                return when
            return replies.also(when, replies.read_promise_amount(text, c))

        return await self.read(dispatcher, tracker, "promise_date", value, reader)


class ValidatePlanConfirmForm(FormValidationAction):
    def name(self) -> str:
        return "validate_plan_confirm_form"

    async def extract_plan_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return replies.confirmation(tracker.latest_message or {}, tracker.events)

    async def validate_plan_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"plan_confirmed": value}


# -- installment plans -----------------------------------------------------------------------
class ActionRequestPlan(Action):
    """Gate, then the policy's first word (no plan when one installment would pay it all: pay
    in full instead; one open plan at a time), then the form with what was already said."""

    def name(self) -> str:
        return "action_request_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ctx = await resolve(dispatcher, tracker, for_plan=True)
        if not isinstance(ctx, Context):
            return ctx
        hardship = replies.hardship_reported(tracker.latest_message or {}, tracker.events)
        if ctx.basis.balance <= ctx.terms.minimum(hardship=hardship):
            say(dispatcher, replies.refused(ctx))
            return clear(PLAN_SLOTS)
        text = replies.topic_text(tracker.latest_message or {}, tracker.events, "request_payment_plan")
        known = replies.plan_prefill(text, ctx, hardship=hardship) if text else {}
        return [*clear(PLAN_SLOTS), *(SlotSet(k, v) for k, v in known.items()), FollowupAction(PLAN_FORM)]


def present(dispatcher: CollectingDispatcher, decision: Decision, ctx: Context, *, hardship: bool) -> list[EventType]:
    """Answer, reasons, full schedule and costs; then ask to confirm (unless refused)."""
    say(dispatcher, *replies.offer_replies(decision, ctx))
    if decision.schedule is None:
        return clear(PLAN_SLOTS)
    offer = replies.stored_offer(decision, hardship=hardship)
    return [SlotSet("plan_offer", offer), SlotSet("plan_confirmed", None), FollowupAction(CONFIRM_FORM)]


class ActionProposePlan(Action):
    def name(self) -> str:
        return "action_propose_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ctx = await resolve(dispatcher, tracker, for_plan=True)
        if not isinstance(ctx, Context):
            return ctx
        proposal = replies.proposal_from(
            *(tracker.get_slot(s) for s in ("plan_terms", "plan_frequency", "plan_first_date"))
        )
        if proposal is None:
            return [FollowupAction(PLAN_FORM)]
        hardship = replies.hardship_reported(tracker.latest_message or {}, tracker.events)
        decision = decide(
            principal=ctx.basis.balance, proposal=proposal, terms=ctx.terms, today=ctx.today, hardship=hardship
        )
        return present(dispatcher, decision, ctx, hardship=hardship)


class ActionConfirmPlan(Action):
    """Yes: store the plan and send the first installment's payment link. No: nothing is stored;
    a counter-offer turned down means no plan is possible inside policy (pay in full, or a person)."""

    def name(self) -> str:
        return "action_confirm_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        offer: dict[str, Any] | None = tracker.get_slot("plan_offer")
        if not offer:
            return clear(PLAN_SLOTS)
        ctx = await resolve(dispatcher, tracker, for_plan=True)
        if not isinstance(ctx, Context):
            return ctx
        if not tracker.get_slot("plan_confirmed"):
            countered = ("utter_plan_refused_by_policy", replies.refused(ctx)[1])
            say(dispatcher, countered if offer.get("countered") else ("utter_plan_declined", {}))
            return clear(PLAN_SLOTS)
        hardship = bool(offer.get("hardship"))
        decision = decide(
            principal=ctx.basis.balance,
            proposal=replies.offered_proposal(offer),
            terms=ctx.terms,
            today=ctx.today,
            hardship=hardship,
        )
        if not replies.same_schedule(decision, offer):  # the balance or the day changed since it was shown
            say(dispatcher, ("utter_plan_changed", {}))
            return present(dispatcher, decision, ctx, hardship=hardship)
        settings = get_settings()
        async with db() as session:
            try:
                plan = await arrangements_service.create_plan(
                    session=session, debtor_id=ctx.debtor_id, basis=ctx.basis, decision=decision, terms=ctx.terms,
                    conversation_id=ctx.conversation_id, hardship=hardship,
                )  # fmt: skip
                first, provider = plan.installments[0], provider_for(settings)
                payment = None  # no card payment here (no provider): the plan stands, without a link
                if provider is not None:
                    payment = await arrangements_service.installment_checkout(
                        session=session, provider=provider, installment_id=first.id,
                        public_base_url=settings.public_base_url, catalog=catalog, locale=locale_of(tracker),
                        tone=((tracker.latest_message or {}).get("metadata") or {}).get("tone"),
                        conversation_id=ctx.conversation_id,
                    )  # fmt: skip
                await session.commit()
            except Exception:  # the provider or the database failed: nothing half-stored
                log.exception("arrangements.plan_setup_failed")
                await session.rollback()
                say(dispatcher, ("utter_plan_setup_failed", {}))
                return clear(PLAN_SLOTS)
        say(dispatcher, *replies.plan_created(plan, first, payment.checkout_url if payment else None))
        return clear(PLAN_SLOTS)


# -- promises to pay -------------------------------------------------------------------------
class ActionRequestPromise(Action):
    def name(self) -> str:
        return "action_request_promise"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ctx = await resolve(dispatcher, tracker, for_plan=False)
        if not isinstance(ctx, Context):
            return ctx
        text = replies.topic_text(tracker.latest_message or {}, tracker.events, "promise_to_pay")
        known = replies.promise_prefill(text, ctx) if text else {}
        return [*clear(PROMISE_SLOTS), *(SlotSet(k, v) for k, v in known.items()), FollowupAction(PROMISE_FORM)]


class ActionRecordPromise(Action):
    def name(self) -> str:
        return "action_record_promise"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        amount, due = tracker.get_slot("promise_amount"), tracker.get_slot("promise_date")
        ctx = await resolve(dispatcher, tracker, for_plan=False)
        if not isinstance(ctx, Context):
            return ctx
        if not (amount and due):
            return [FollowupAction(PROMISE_FORM)]
        async with db() as session:
            promise = await arrangements_service.record_promise(
                session=session,
                debtor_id=ctx.debtor_id,
                conversation_id=ctx.conversation_id,
                amount_minor=to_minor(Decimal(amount), ctx.basis.currency),
                currency=ctx.basis.currency,
                due_date=date.fromisoformat(due),
            )
            await session.commit()
        say(dispatcher, replies.promise_recorded(promise))
        return clear(PROMISE_SLOTS)
