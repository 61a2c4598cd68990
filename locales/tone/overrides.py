"""The database layer under the catalog: admins' texts and tone defaults, live in every process.

Each process (gateway, inbox worker, action server) keeps one snapshot and checks a small stamp
(row counts and newest ids) at most once per `ttl` seconds; only when the stamp changed are the
overrides read again. Async callers `await catalog.refresh()` before rendering (the NLG endpoint
does); synchronous renders (`catalog.render` inside async code) start the same check in the
background, so the next message has the change.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.database import READ_ONLY
from locales import Catalog, Overrides
from locales.tone import service

log = logging.getLogger(__name__)


class ToneOverrides:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, ttl: float = 1.0) -> None:
        self.sessionmaker = sessionmaker
        self.ttl = ttl
        self._snapshot = Overrides()
        self._checked = float("-inf")
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[Overrides] | None = None

    def _due(self) -> bool:
        return time.monotonic() - self._checked >= self.ttl

    def current(self) -> Overrides:
        if self._due() and (self._background is None or self._background.done()):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a script): the snapshot as it is
                return self._snapshot
            self._background = loop.create_task(self.refresh())
        return self._snapshot

    async def refresh(self, *, force: bool = False) -> Overrides:
        if not (force or self._due()):
            return self._snapshot
        async with self._lock:
            if not (force or self._due()):
                return self._snapshot  # another caller just checked
            try:
                async with self.sessionmaker() as session:
                    await session.connection(execution_options=READ_ONLY)  # a read: no write lock
                    if force or await service.stamp(session=session) != self._snapshot.stamp:
                        self._snapshot = await service.load(session=session)
            except (SQLAlchemyError, OSError) as exc:  # keep answering with what we have; try again later
                log.warning("tone.overrides_unavailable", extra={"error": str(exc)})
            self._checked = time.monotonic()
        return self._snapshot


def ensure_attached(catalog: Catalog, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Give a catalog the database layer unless it has one (the gateway's, on first use)."""
    if catalog.overrides is None:
        catalog.attach(ToneOverrides(sessionmaker))
