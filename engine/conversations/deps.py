"""The conversation engine as FastAPI dependencies: the one pipeline and the Rasa client the
gateway builds in its lifespan (app/wiring.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from engine.conversations.pipeline import Pipeline
from engine.conversations.rasa_client import RasaClient


def _rasa(conn: HTTPConnection) -> RasaClient:
    return conn.app.state.rasa


def _pipeline(conn: HTTPConnection) -> Pipeline:
    return conn.app.state.pipeline


RasaDep = Annotated[RasaClient, Depends(_rasa)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
