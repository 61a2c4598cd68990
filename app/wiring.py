"""The message pipeline wired once: the gateway (app/main.py) and every inbox worker thread
(app/worker.py) build theirs here, so both talk to Rasa with the same token, tracker store,
texts, detector, scorer and outputs."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from channels.base import OutputChannel
from channels.outputs import build_outputs
from engine.conversations.pipeline import Pipeline
from engine.conversations.rasa_client import RasaClient
from engine.conversations.tracker_store import RasaTrackerStore
from engine.language.detector import LanguageDetector
from engine.signals import SignalScorer
from locales import Catalog
from locales.tone.overrides import ToneOverrides


def build_pipeline(
    settings: GatewaySettings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    detector: LanguageDetector | None = None,
    outputs: dict[str, OutputChannel] | None = None,
) -> Pipeline:
    """The pipeline with its Rasa client, catalog (admins' live edits layered over locales/) and
    the configured provider outputs; `outputs` adds process-local ones (the gateway's web chat
    pushes), `detector` shares one loaded model between a process's threads."""
    rasa = RasaClient(
        rasa_urls=settings.rasa_endpoints(),
        action_server_url=settings.action_server_url,
        http=http,
        timeout=settings.rasa_timeout_seconds,
        health_timeout=settings.health_timeout_seconds,
        auth_token=settings.rasa_auth_token.get_secret_value() if settings.rasa_auth_token else None,
        tracker_store=RasaTrackerStore.from_url(settings.rasa_tracker_store_url),
    )
    return Pipeline(
        sessionmaker=sessionmaker,
        rasa=rasa,
        catalog=Catalog(overrides=ToneOverrides(sessionmaker)),
        detector=detector or LanguageDetector(),
        settings=settings,
        scorer=SignalScorer.from_settings(settings.signals_model_dir),
        outputs={**(outputs or {}), **build_outputs(settings, public_base_url=settings.public_base_url)},
    )
