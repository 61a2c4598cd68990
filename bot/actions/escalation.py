"""Escalation from the assistant's side: queue the conversation for a person and tell the debtor
when one will reply (or, with nobody online, by when, with the offer of a callback)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.common import locale_of
from handoff import service as handoff_service
from handoff.models import Reason


async def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    session: AsyncSession,
    reason: Reason,
    detail: dict[str, Any] | None = None,
    announce: bool = True,
) -> handoff_service.Escalation:
    """Queue (or add the reason to the open case) and commit. A new case is announced to the
    debtor; one already waiting or with an agent is not announced twice."""
    escalation = await handoff_service.escalate(
        session=session, conversation_id=tracker.sender_id, reason=reason, actor="bot", detail=detail
    )
    await session.commit()
    if announce and escalation.created:
        key, arguments = await handoff_service.notice(session=session, locale=locale_of(tracker))
        dispatcher.utter_message(response=key, **arguments)
    return escalation
