"""Operational endpoints of the gateway."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from core.database import READ_ONLY
from core.deps import SessionDep
from engine.conversations.deps import PipelineDep, RasaDep
from engine.conversations.rasa_client import summarize

router = APIRouter(tags=["ops"])


class ComponentState(BaseModel):
    up: bool
    detail: str


class RasaInstanceState(ComponentState):
    url: str


class Health(BaseModel):
    status: str  # "ok" when everything is up, otherwise "degraded"
    database: ComponentState
    rasa: ComponentState  # every instance together: up only when all are
    rasa_instances: list[RasaInstanceState]  # one per instance (RASA_URLS), in ring order
    action_server: ComponentState
    signals: ComponentState  # "model+lexicon", or "lexicon-only" without a configured model


@router.get("/health", response_model=Health)
async def health(session: SessionDep, rasa: RasaDep, pipeline: PipelineDep) -> Health:
    """Always 200: the body says which part is down, so a load balancer and a person can both read it."""

    async def database() -> tuple[bool, str]:
        try:
            # A read that takes no write lock on SQLite, ended at once (the probes below can be slow).
            await session.connection(execution_options=READ_ONLY)
            await session.execute(text("SELECT 1"))
            await session.commit()
        except Exception as exc:
            return False, type(exc).__name__
        return True, session.bind.dialect.name

    (db_up, db_detail), instances, (act_up, act_detail) = await asyncio.gather(
        database(), rasa.instance_statuses(), rasa.action_server_status()
    )
    rasa_up, rasa_detail = summarize(instances)
    return Health(
        status="ok" if db_up and rasa_up and act_up else "degraded",
        database=ComponentState(up=db_up, detail=db_detail),
        rasa=ComponentState(up=rasa_up, detail=rasa_detail),
        rasa_instances=[RasaInstanceState(url=i.url, up=i.up, detail=i.detail) for i in instances],
        action_server=ComponentState(up=act_up, detail=act_detail),
        signals=ComponentState(up=True, detail=pipeline.scorer.mode),
    )
