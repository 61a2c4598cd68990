"""The pipeline is wired once (app/wiring.py): the gateway and the inbox worker get the same Rasa
token and tracker store, the same texts and the configured outputs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from app.config import GatewaySettings
from app.wiring import build_pipeline
from channels.push import Connections
from core.database import make_engine, make_sessionmaker


def test_build_pipeline_wires_rasa_with_its_token_and_tracker_store(tmp_path: Path) -> None:
    settings = GatewaySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}",
        rasa_auth_token="rasa-token-wiring",  # type: ignore[arg-type]
        rasa_tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}",
    )

    async def build() -> None:
        engine = make_engine(settings.database_url)
        async with httpx.AsyncClient() as http:
            webchat = Connections()
            pipeline = build_pipeline(
                settings, sessionmaker=make_sessionmaker(engine), http=http, outputs={"webchat": webchat}
            )
            assert pipeline.rasa.auth_params == {"token": "rasa-token-wiring"}
            assert pipeline.rasa.tracker_store is not None
            assert pipeline.rasa.http is http and pipeline.outputs["webchat"] is webchat
            assert pipeline.catalog.overrides is not None  # admins' live edits layered over the files
            worker = build_pipeline(settings, sessionmaker=make_sessionmaker(engine), http=http)
            assert worker.rasa.auth_params == pipeline.rasa.auth_params and "webchat" not in worker.outputs
        await engine.dispose()

    asyncio.run(build())
