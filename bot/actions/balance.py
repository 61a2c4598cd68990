"""Balance overview: every open debt itemised (paused ones marked), totals per currency (formatted by
the NLG)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.common import db
from bot.actions.gate import start_verification
from engine.conversations import service as conversations_service
from money.holds import service as holds_service
from money.holds.models import CollectionHold, HoldReason
from people.debtors import service as debtors_service

# When several holds cover a debt, the one the person is told about (a dispute first: it is theirs).
HOLD_ORDER = (HoldReason.DISPUTE, HoldReason.BREATHING_SPACE, HoldReason.HARDSHIP)


def hold_of(debt_id: int, holds: list[CollectionHold]) -> str | None:
    """Why collection on this debt is paused, if it is (the NLG marks the line with it)."""
    reasons = {h.reason for h in holds if h.debt_id in (None, debt_id)}
    return next((r.value for r in HOLD_ORDER if r in reasons), None)


async def utter_balance(
    dispatcher: CollectingDispatcher, *, session: AsyncSession, debtor_id: int, locale: str | None = None
) -> None:
    balance = await debtors_service.open_balance(session=session, debtor_id=debtor_id)
    if not balance.debts:
        dispatcher.utter_message(response="utter_no_open_debts", locale=locale)
        return
    holds = await holds_service.active(session=session, debtor_id=debtor_id)
    dispatcher.utter_message(
        response="utter_balance",
        locale=locale,
        debts=[
            {
                "creditor": d.creditor,
                "reference": d.reference,
                "currency": d.currency,
                "due_date": d.due_date.isoformat(),
                "amount": str(d.amount),
                "components": [{"kind": c.kind, "amount": str(c.amount)} for c in d.components],
                "hold": hold_of(d.id, holds),  # None, or why collection on it is paused
            }
            for d in balance.debts
        ],
        totals=[{"currency": currency, "amount": str(amount)} for currency, amount in balance.totals],
    )


class ActionCheckBalance(Action):
    def name(self) -> str:
        return "action_check_balance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        async with db() as session:
            conversation = await conversations_service.ensure(session=session, conversation_id=tracker.sender_id)
            await session.commit()
            if tracker.get_slot("verified") and conversation.debtor_id:
                await utter_balance(dispatcher, session=session, debtor_id=conversation.debtor_id)
                return []
        return await start_verification(dispatcher, tracker, topic="check_balance")
