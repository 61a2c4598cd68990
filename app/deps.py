"""Annotated FastAPI dependencies, all in one place. Everything lives on `app.state`,
created once in the lifespan (see app/main.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from app.config import GatewaySettings
from conversations.pipeline import Pipeline
from conversations.rasa_client import RasaClient
from locales import Catalog


def _settings(conn: HTTPConnection) -> GatewaySettings:
    return conn.app.state.settings  # type: ignore[no-any-return]


async def _session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    async with conn.app.state.sessionmaker() as session:
        yield session


def _catalog(conn: HTTPConnection) -> Catalog:
    return conn.app.state.catalog  # type: ignore[no-any-return]


def _rasa(conn: HTTPConnection) -> RasaClient:
    return conn.app.state.rasa  # type: ignore[no-any-return]


def _pipeline(conn: HTTPConnection) -> Pipeline:
    return conn.app.state.pipeline  # type: ignore[no-any-return]


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
SessionDep = Annotated[AsyncSession, Depends(_session)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
RasaDep = Annotated[RasaClient, Depends(_rasa)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
