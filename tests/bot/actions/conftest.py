"""Actions run against the test database (rolled back) through their own `db()` helper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import common


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
