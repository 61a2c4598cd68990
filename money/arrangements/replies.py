"""What the assistant makes of an answer in the plan and promise flows, and what it says back,
as (response key, arguments) pairs: pure functions, so they are tested without Rasa.

Arguments are raw values for the NLG to format with Babel: `*_money` = {"amount", "currency"},
`*_date` = ISO date, `*_percent` = decimal string, `schedule` = [{"due_date", "amount",
"currency"}]. Texts are in locales/<locale>/arrangements.yml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from money.arrangements import parsing
from money.arrangements.models import Frequency, Installment, InstallmentStatus, PaymentPlan, PaymentPromise
from money.arrangements.schedule import Decision, Outcome, Proposal, Terms
from money.arrangements.service import Basis
from money.ledger.money import from_minor, to_minor

Reply = tuple[str, dict[str, Any]]
Read = tuple[dict[str, Any], Reply | None]  # slot values (None = ask again), what was wrong


def money(amount_minor: int, currency: str) -> dict[str, str]:
    return {"amount": str(from_minor(amount_minor, currency)), "currency": currency}


@dataclass(frozen=True)
class Context:
    """Who is arranging what, under which policy, on which day (in their time zone)."""

    debtor_id: int
    conversation_id: str
    basis: Basis
    terms: Terms
    today: date
    promise_max_days: int
    date_order: str = "DMY"


def read_terms(text: str, ctx: Context, *, hardship: bool) -> Read:
    """Slot plan_terms as "amount:<minor units>" or "count:<n>" (and plan_frequency if said)."""
    if text.startswith(("amount:", "count:")):
        return {"plan_terms": text}, None
    minimum = ctx.terms.minimum(hardship=hardship)
    parsed = parsing.parse_terms(text, minimum=from_minor(minimum, ctx.basis.currency))
    invalid: Read = (
        {"plan_terms": None},
        ("utter_plan_terms_invalid", {"example_money": money(minimum, ctx.basis.currency)}),
    )
    if parsed is None or parsed.currency not in (None, ctx.basis.currency):
        return invalid
    if parsed.count is not None and parsed.count > 0:
        values: dict[str, Any] = {"plan_terms": f"count:{parsed.count}"}
    elif parsed.amount is not None and parsed.amount > 0:
        values = {"plan_terms": f"amount:{to_minor(parsed.amount, ctx.basis.currency)}"}
    else:
        return invalid
    if parsed.frequency:
        values["plan_frequency"] = parsed.frequency.value
    return values, None


def read_frequency(text: str) -> Read:
    found = parsing.parse_frequency(text)
    if found is None:
        return {"plan_frequency": None}, ("utter_plan_frequency_invalid", {})
    return {"plan_frequency": found.value}, None


def read_date(slot: str, text: str, ctx: Context, *, asked: bool = True) -> Read:
    """An ISO date, today or later; a promise also within the policy's max_days_ahead (a plan's
    first date beyond its limit is not an error: the policy answers it with a counter-offer).
    `asked=False` when reading a message that answered something else (a bare "25" is no date)."""
    prefix = "utter_plan_first_date" if slot == "plan_first_date" else "utter_promise_date"
    found = parsing.parse_when(text, today=ctx.today, date_order=ctx.date_order, bare_day=asked)
    if found is None:
        return {slot: None}, (f"{prefix}_invalid", {})
    if found < ctx.today:
        return {slot: None}, (f"{prefix}_past", {})
    latest = ctx.today + timedelta(days=ctx.promise_max_days)
    if slot == "promise_date" and found > latest:
        return {slot: None}, (f"{prefix}_too_far", {"latest_date": latest.isoformat()})
    return {slot: found.isoformat()}, None


def read_promise_amount(text: str, ctx: Context) -> Read:
    """A decimal string in the debts' currency, more than zero and at most what is owed."""
    currency, balance = ctx.basis.currency, ctx.basis.balance
    parsed = parsing.parse_amount(text)
    if parsed is None and parsing.wants_full_amount(text):
        return {"promise_amount": str(from_minor(balance, currency))}, None
    limit = {"max_money": money(balance, currency)}
    if parsed is None or parsed[1] not in (None, currency) or parsed[0] <= 0:
        return {"promise_amount": None}, ("utter_promise_amount_invalid", limit)
    amount = to_minor(parsed[0], currency)
    if amount > balance:
        return {"promise_amount": None}, ("utter_promise_amount_too_high", limit)
    return {"promise_amount": str(from_minor(amount, currency))}, None


def also(read: Read, *others: Read) -> Read:
    """One answer, plus what the same message said for other slots ("£50 on Friday")."""
    values, problem = read
    return ({**given(*others), **values} if problem is None else values), problem


# Intents that interrupt a form when the message does not answer its question (rules in
# bot/data/arrangements.yml); read as an answer when it does ("tomorrow" taken for goodbye).
INTERRUPTIONS = frozenset(
    {"deny", "goodbye", "bot_challenge", "opt_out", "report_hardship", "request_human", "dispute_debt",
     "change_language", "check_balance"}
)  # fmt: skip


def _intent(message: dict[str, Any]) -> str | None:
    return ((message.get("parse_data") or message).get("intent") or {}).get("name")


def hardship_reported(latest: dict[str, Any], events: list[dict[str, Any]]) -> bool:
    """Said in this conversation that paying is hard, or chose the token plan among the hardship
    options (which may come after the session that heard the hardship has expired): opens the
    token-payment allowance."""
    return _hardship(latest) or any(e.get("event") == "user" and _hardship(e) for e in events)


def _hardship(message: dict[str, Any]) -> bool:
    if _intent(message) == "report_hardship":
        return True
    if _intent(message) != "choose_hardship_option":
        return False
    entities = (message.get("parse_data") or message).get("entities") or []
    return any(e.get("entity") == "hardship_option" and e.get("value") == "token_plan" for e in entities)


def topic_text(latest: dict[str, Any], events: list[dict[str, Any]], intent: str) -> str:
    """The message that asked for a flow; after verification it is some turns back."""
    if _intent(latest) == intent:
        return str(latest.get("text") or "")
    for event in reversed(events):
        if event.get("event") == "user" and _intent(event) == intent:
            return str(event.get("text") or "")
    return ""


def answering(events: list[dict[str, Any]], slot: str) -> bool:
    """The latest message came after the form asked for `slot` (not the request that started
    the form, nor the date of birth that finished verification just before it)."""
    requested = None
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    for event in events[: max(last_user, 0)]:
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
    return last_user >= 0 and requested == slot


def answer_to(slot: str, latest: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slot's raw value from the latest message, or nothing when the message does not
    answer this question (asked for another slot, or an interruption)."""
    if not answering(events, slot):
        return {}
    text = str(latest.get("text") or "")
    button = [e.get("value") for e in latest.get("entities") or [] if e.get("entity") == "frequency"]
    if slot == "plan_frequency" and button:
        return {slot: str(button[0])}
    if _intent(latest) in INTERRUPTIONS and not answers(slot, text):
        return {}
    return {slot: text}


def confirmation(latest: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """plan_confirmed from a yes or no that answered the question, else nothing."""
    if not answering(events, "plan_confirmed"):
        return {}
    return {"affirm": {"plan_confirmed": True}, "deny": {"plan_confirmed": False}}.get(_intent(latest) or "", {})


def answers(slot: str, text: str) -> bool:
    """Whether a message reads as an answer for `slot` at all (valid or not is decided later):
    a message that does not is an interruption when the NLU says so ("stop", "are you a bot")."""
    if slot == "plan_terms":
        return parsing.parse_terms(text, minimum=Decimal(0)) is not None
    if slot == "plan_frequency":
        return parsing.parse_frequency(text) is not None
    if slot == "promise_amount":
        return parsing.parse_amount(text) is not None or parsing.wants_full_amount(text)
    return parsing.parse_when(text, today=date.today()) is not None


def given(*reads: Read) -> dict[str, Any]:
    """Slots already answered in the first message; anything unreadable is simply asked for."""
    return {k: v for values, problem in reads if problem is None for k, v in values.items()}


def plan_prefill(text: str, ctx: Context, *, hardship: bool) -> dict[str, Any]:
    """What the request itself already said ("£20 a month from the 1st")."""
    return given(read_terms(text, ctx, hardship=hardship), read_date("plan_first_date", text, ctx, asked=False))


def promise_prefill(text: str, ctx: Context) -> dict[str, Any]:
    """What the promise itself already said ("I'll pay £50 on Friday")."""
    return given(read_promise_amount(text, ctx), read_date("promise_date", text, ctx, asked=False))


def proposal_from(terms: str | None, frequency: str | None, first_date: str | None) -> Proposal | None:
    if not (terms and frequency and first_date):
        return None
    kind, _, number = terms.partition(":")
    return Proposal(
        frequency=Frequency(frequency),
        first_date=date.fromisoformat(first_date),
        amount=int(number) if kind == "amount" else None,
        count=int(number) if kind == "count" else None,
    )


def refused(ctx: Context) -> Reply:
    return "utter_plan_refused_balance_low", {"total_money": money(ctx.basis.balance, ctx.basis.currency)}


def offer_replies(decision: Decision, ctx: Context) -> list[Reply]:
    """The policy's answer and each reason, then the full schedule and every cost (§13a RDG)."""
    currency, schedule, offer = ctx.basis.currency, decision.schedule, decision.proposal
    if decision.outcome is Outcome.REFUSED or schedule is None or offer.amount is None:
        return [refused(ctx)]
    replies: list[Reply] = []
    if decision.outcome is Outcome.COUNTERED:
        why = {
            "min_money": money(decision.minimum, currency),
            "amount_money": money(offer.amount, currency),
            "max_months": decision.max_months,
            "max_count": decision.max_count,
            "count": len(schedule.lines),
            "latest_date": decision.latest_first_date.isoformat(),
            "first_date": offer.first_date.isoformat(),
        }
        replies.append(("utter_plan_counter_intro", {}))
        replies += [(f"utter_plan_reason_{reason.value}", why) for reason in decision.reasons]
    else:
        replies.append(("utter_plan_accepted", {}))
    summary = {
        "count": len(schedule.lines),
        "schedule": [
            {
                "due_date": line.due_date.isoformat(),
                "amount": money(line.amount, currency)["amount"],
                "currency": currency,
            }
            for line in schedule.lines
        ],
        "principal_money": money(schedule.principal, currency),
        "fee_money": money(schedule.fee, currency),
        "interest_money": money(schedule.interest, currency),
        "rate_percent": str(ctx.terms.annual_interest_rate.normalize()),
        "cost_money": money(schedule.cost, currency),
        "total_money": money(schedule.total, currency),
    }
    replies.append(("utter_plan_summary" if schedule.cost else "utter_plan_summary_no_costs", summary))
    return replies


def stored_offer(decision: Decision, *, hardship: bool) -> dict[str, Any]:
    """What the person is asked to confirm, kept in a slot until they answer."""
    assert decision.schedule is not None and decision.proposal.amount is not None
    return {
        "amount": decision.proposal.amount,
        "frequency": decision.proposal.frequency.value,
        "first_date": decision.proposal.first_date.isoformat(),
        "countered": decision.outcome is Outcome.COUNTERED,
        "hardship": hardship,
        "lines": [[line.due_date.isoformat(), line.amount] for line in decision.schedule.lines],
    }


def offered_proposal(offer: dict[str, Any]) -> Proposal:
    return Proposal(Frequency(offer["frequency"]), date.fromisoformat(offer["first_date"]), amount=int(offer["amount"]))


def same_schedule(decision: Decision, offer: dict[str, Any]) -> bool:
    """Confirming must store exactly what was shown; a changed balance or day means show again."""
    if decision.schedule is None:
        return False
    return [[line.due_date.isoformat(), line.amount] for line in decision.schedule.lines] == offer.get("lines")


def plan_running(plan: PaymentPlan) -> Reply:
    upcoming = next((i for i in plan.installments if i.status is not InstallmentStatus.PAID), plan.installments[-1])
    return "utter_plan_already_active", {
        "next_date": upcoming.due_date.isoformat(),
        "next_money": money(upcoming.amount_minor, plan.currency),
    }


def plan_created(plan: PaymentPlan, first: Installment, checkout_url: str | None) -> list[Reply]:
    """Confirmation of what was agreed, and the first installment's payment link."""
    first_money, first_date = money(first.amount_minor, plan.currency), first.due_date.isoformat()
    created = {
        "count": len(plan.installments),
        "first_date": first_date,
        "first_money": first_money,
        "total_money": money(plan.total_minor, plan.currency),
    }
    link = {"url": checkout_url, "first_money": first_money, "first_date": first_date}
    return [("utter_plan_created", created), *([("utter_plan_payment_link", link)] if checkout_url else [])]


def promise_recorded(promise: PaymentPromise) -> Reply:
    return "utter_promise_recorded", {
        "amount_money": money(promise.amount_minor, promise.currency),
        "due_date": promise.due_date.isoformat(),
    }
