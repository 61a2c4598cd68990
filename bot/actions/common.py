"""What every action needs: a database session, the conversation's locale, the catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions.settings import get_settings
from core.database import make_engine, make_sessionmaker
from locales import Catalog, LocaleConfig, resolve_locale

_sessionmaker: async_sessionmaker[AsyncSession] | None = None
catalog = Catalog()


def configure(sessionmaker: async_sessionmaker[AsyncSession] | None) -> None:
    """Point the actions at another database (tests)."""
    global _sessionmaker
    _sessionmaker = sessionmaker


@asynccontextmanager
async def db() -> AsyncIterator[AsyncSession]:
    global _sessionmaker
    if _sessionmaker is None:
        _sessionmaker = make_sessionmaker(make_engine(get_settings().database_url))
    async with _sessionmaker() as session:
        yield session


def locale_of(tracker: Tracker) -> str:
    """The explicit choice (slot) first, then what the gateway decided for this message."""
    metadata: dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
    chosen = tracker.get_slot("locale") or metadata.get("locale")
    return resolve_locale(chosen) or get_settings().default_locale


def locale_config(tracker: Tracker) -> LocaleConfig:
    return catalog.config(locale_of(tracker))
