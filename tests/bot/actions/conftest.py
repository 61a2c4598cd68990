"""Actions run against the test database (rolled back) through their own `db()` helper."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import models as _all_models  # noqa: F401 - every table known to the ORM, as the action server does
from bot.actions import common
from engine.conversations import service as conversations_service
from people.debtors import service as debtors_service
from people.debtors.models import Debtor


@pytest.fixture(autouse=True)
def actions_db(sessionmaker: async_sessionmaker[AsyncSession]) -> Iterator[None]:
    common.configure(sessionmaker)
    yield
    common.configure(None)


def make_tracker(
    sender: str,
    *,
    text: str = "",
    intent: str = "check_balance",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    locale: str = "en",
    active_loop: dict[str, Any] | None = None,
) -> Tracker:
    """A hand-built tracker, as Rasa would send it to the action server."""
    return Tracker(
        sender_id=sender,
        slots={
            "verified": False,
            "reference": None,
            "dob": None,
            "requested_topic": None,
            "locale": None,
            **(slots or {}),
        },
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": entities or [],
            "metadata": {"locale": locale, "channel": "webchat"},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The response keys the action uttered, in order."""
    return [m["response"] for m in dispatcher.messages]


def slots(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def verified(session: AsyncSession, reference: str) -> tuple[str, Debtor]:
    """A new conversation, verified as the demo debtor with this reference."""
    who = await debtors_service.get_by_reference(session=session, reference=reference)
    assert who
    sid = uuid.uuid4().hex
    await conversations_service.mark_verified(session=session, conversation_id=sid, debtor=who)
    await session.commit()
    return sid, who
