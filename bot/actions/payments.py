"""Pay now: after verification, one debt or everything, paid on a hosted Checkout page."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.common import catalog, db, locale_of
from bot.actions.gate import start_verification
from bot.actions.settings import get_settings
from engine.conversations import service as conversations_service
from engine.language.detector import tokens
from money.holds import service as holds_service
from money.ledger.money import from_minor
from payments import service as payments_service
from payments.providers import provider_for
from people.debtors import service as debtors_service
from people.debtors.service import DebtLine
from people.identity.dates import fold

ALL = "all"
# Recognition vocabulary for "everything" (what people type), not user-facing text.
ALL_WORDS = {"all", "everything", "allt", "alla", "alles", "tudo", "todas", "todos", "total", "gesamt", "hela"}


def chosen_debts(tracker: Tracker, debts: tuple[DebtLine, ...]) -> list[DebtLine] | None:
    """The debts the person picked (button payload or by naming creditor/reference), else None."""
    message: dict[str, Any] = tracker.latest_message or {}
    for entity in message.get("entities") or []:
        if entity.get("entity") == "debt_ref":
            value = str(entity.get("value") or "")
            if value == ALL:
                return list(debts)
            picked = [d for d in debts if d.reference == value]
            if picked:
                return picked
    text = fold(message.get("text") or "")
    named = [d for d in debts if fold(d.reference) in text or fold(d.creditor) in text]
    if named:
        return named
    if ALL_WORDS & set(tokens(text)):
        return list(debts)
    return None


async def offer_payment(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, session: AsyncSession, conversation_id: str, debtor_id: int
) -> None:
    """Ask which debt (when there are several and none was named), else send the link(s).
    Debts on hold (disputed, a hardship pause) are never offered: the person is told so."""
    debtor = await debtors_service.get(session=session, debtor_id=debtor_id)
    assert debtor is not None
    balance = await debtors_service.open_balance(session=session, debtor_id=debtor.id)
    if not balance.debts:
        dispatcher.utter_message(response="utter_no_open_debts")
        return
    paused_ids = await holds_service.paused_debt_ids(session=session, debtor_id=debtor.id)
    payable = tuple(d for d in balance.debts if d.id not in paused_ids)
    paused = [d for d in balance.debts if d.id in paused_ids]
    if not payable:
        dispatcher.utter_message(response="utter_collection_paused")
        return
    named = chosen_debts(tracker, balance.debts)
    if named is not None and not any(d.id not in paused_ids for d in named):
        for debt in named:  # only paused debts were named
            dispatcher.utter_message(response="utter_pay_debt_paused", creditor=debt.creditor, reference=debt.reference)
        return
    if named is not None:
        picked: list[DebtLine] | None = [d for d in named if d.id not in paused_ids]
    else:
        picked = list(payable) if len(payable) == 1 else None
    settings = get_settings()
    provider = provider_for(settings)
    if provider is None:  # no Stripe keys and no opt-in sandbox: offer what works without a card
        dispatcher.utter_message(response="utter_card_payment_unavailable")
        return
    if picked is None:
        dispatcher.utter_message(response="utter_pay_choose", choices=choices(payable, totals(payable)))
        return
    for debt in paused:  # left out of "everything" (or beside the one payable debt): say so
        if named is not None and debt not in named:
            continue
        dispatcher.utter_message(response="utter_pay_debt_paused", creditor=debt.creditor, reference=debt.reference)
    locale = locale_of(tracker)
    base = settings.public_base_url.rstrip("/")
    payments = await payments_service.start_checkouts(
        session=session,
        provider=provider,
        debtor=debtor,
        debt_ids=[d.id for d in picked],
        conversation_id=conversation_id,
        locale=locale,
        descriptions=descriptions(picked, locale),
        success_url=f"{base}/payments/return?status=success&locale={locale}",
        cancel_url=f"{base}/payments/return?status=cancel&locale={locale}",
    )
    await session.commit()
    for payment in payments:
        dispatcher.utter_message(
            response="utter_payment_link",
            url=payment.checkout_url,
            due_money={"amount": str(from_minor(payment.amount_minor, payment.currency)), "currency": payment.currency},
        )


def totals(debts: tuple[DebtLine, ...]) -> tuple[tuple[str, Decimal], ...]:
    """What the debts add up to per currency (sorted by currency), as in the balance."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for debt in debts:
        sums[debt.currency] += debt.amount
    return tuple(sorted(sums.items()))


def choices(debts: tuple[DebtLine, ...], totals: tuple[tuple[str, Any], ...]) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = [
        {
            "payload": f'/pay_now{{"debt_ref": "{d.reference}"}}',
            "label": "pay_choice_button",
            "creditor": d.creditor,
            "due_money": {"amount": str(d.amount), "currency": d.currency},
        }
        for d in debts
    ]
    if len(totals) == 1:
        currency, amount = totals[0]
        options.append(
            {
                "payload": f'/pay_now{{"debt_ref": "{ALL}"}}',
                "label": "pay_choice_all",
                "due_money": {"amount": str(amount), "currency": currency},
            }
        )
    return options


def descriptions(debts: list[DebtLine], locale: str) -> dict[str, str]:
    """The line-item text on the payment page, per currency, in the person's language."""
    out: dict[str, str] = {}
    for currency in {d.currency for d in debts}:
        group = [d for d in debts if d.currency == currency]
        if len(group) == 1:
            args = {"creditor": group[0].creditor, "reference": group[0].reference}
            out[currency] = catalog.render("checkout_item_one", locale, None, args).text
        else:
            out[currency] = catalog.render("checkout_item_all", locale, None, {"count": len(group)}).text
    return out


class ActionPayNow(Action):
    def name(self) -> str:
        return "action_pay_now"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        async with db() as session:
            conversation = await conversations_service.ensure(session=session, conversation_id=tracker.sender_id)
            await session.commit()
            if not (tracker.get_slot("verified") and conversation.debtor_id):
                return await start_verification(dispatcher, tracker, topic="pay_now")
            await offer_payment(
                dispatcher, tracker, session=session, conversation_id=conversation.id, debtor_id=conversation.debtor_id
            )
        return []
