"""Annotated FastAPI dependencies of the ground: the request's database session and settings.
Everything lives on `app.state`, created once in the gateway's lifespan (app/main.py); features
add their own (locales/deps.py, engine/conversations/deps.py, people/auth/deps.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from core.config import CoreSettings

S = TypeVar("S")


def settings_of(kind: type[S]) -> Callable[[HTTPConnection], S]:
    """A dependency giving a feature its own settings class (the gateway's settings compose them
    all, app/config.py), so a feature never imports the gateway to read its part."""

    def read(conn: HTTPConnection) -> S:
        settings = conn.app.state.settings
        if not isinstance(settings, kind):
            raise TypeError(f"the app's settings are no {kind.__name__}")
        return settings

    return read


_settings = settings_of(CoreSettings)


async def _session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    async with conn.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[CoreSettings, Depends(_settings)]
SessionDep = Annotated[AsyncSession, Depends(_session)]
