"""/health/live and /health/ready (app/health.py) with real dependencies at the edges: Rasa and
the action server are a loopback HTTP server, or a dead port; the database is a real SQLite file
made unreachable; Redis is a dead port."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from channels.base import InboundMessage
from core.database import make_engine, make_sessionmaker, utcnow
from engine.inbox import service as inbox_service
from engine.inbox.models import InboundEvent, InboxStatus
from tests.fakes.loopback import LoopbackFake, Response
from tests.stack import free_port


class RasaAndActions(LoopbackFake):
    """Rasa's GET /status (a model loaded) and the action server's GET /health, on one port."""

    def _handle(self, method: str, target: str, raw: bytes, headers: dict[str, str]) -> Response:
        if target.startswith("/status"):
            return Response(200, b'{"model_file": "models/debtor.tar.gz"}')
        return Response(200, b'{"status": "ok"}')


@pytest.fixture(scope="module")
def upstream() -> Iterator[RasaAndActions]:
    with RasaAndActions() as fake:
        yield fake


def gateway(folder: Path, **settings: object) -> TestClient:
    url = f"sqlite+aiosqlite:///{folder / 'gw.db'}"
    migrate(url)
    return TestClient(create_app(GatewaySettings(database_url=url, health_timeout_seconds=0.5, **settings)))  # type: ignore[arg-type]


def add_event(url: str, *, age: timedelta) -> int:
    async def run() -> int:
        engine = make_engine(url)
        async with make_sessionmaker(engine)() as session:
            message = InboundMessage(
                channel="sms", sender="+46700000001", text="hej", received_at=utcnow() - age,
                provider_message_id=f"SM-health-{age.total_seconds()}",
            )  # fmt: skip
            event = await inbox_service.accept(session=session, message=message)
            await session.commit()
        await engine.dispose()
        assert event is not None
        return event.id

    return asyncio.run(run())


def finish_event(url: str, event_id: int) -> None:
    async def run() -> None:
        engine = make_engine(url)
        async with make_sessionmaker(engine)() as session:
            event = await session.get(InboundEvent, event_id)
            assert event is not None
            event.status = InboxStatus.DONE
            await session.commit()
        await engine.dispose()

    asyncio.run(run())


def test_ready_when_everything_answers_then_names_a_lagging_worker(tmp_path: Path, upstream: RasaAndActions) -> None:
    with gateway(
        tmp_path, rasa_url=upstream.url, action_server_url=upstream.url, ready_max_inbox_age_seconds=60
    ) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 200, ready.json()
        assert ready.json()["status"] == "ready" and ready.json()["down"] == []
        names = {check["name"] for check in ready.json()["checks"]}
        assert names == {"database", "worker", f"rasa:{upstream.url}", "action_server"}  # no Redis configured

        url = str(client.app.state.settings.database_url)  # type: ignore[attr-defined]
        fresh = add_event(url, age=timedelta(seconds=5))
        assert client.get("/health/ready").status_code == 200  # waiting, but within the limit
        stale = add_event(url, age=timedelta(minutes=10))
        lagging = client.get("/health/ready")
        assert lagging.status_code == 503
        assert lagging.json()["down"] == ["worker"]
        for event_id in (fresh, stale):
            finish_event(url, event_id)
        assert client.get("/health/ready").status_code == 200


def test_ready_names_each_rasa_instance_and_redis_down_live_stays_200(tmp_path: Path, upstream: RasaAndActions) -> None:
    dead_rasa = f"http://127.0.0.1:{free_port()}"
    settings = {
        "rasa_urls": f"{upstream.url},{dead_rasa}",
        "action_server_url": upstream.url,
        "huey_redis_url": f"redis://127.0.0.1:{free_port()}/0",
    }
    with gateway(tmp_path, **settings) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not_ready"
        assert sorted(ready.json()["down"]) == sorted([f"rasa:{dead_rasa}", "redis:queue"])
        assert client.get("/health/live").json() == {"status": "alive"}


def test_database_unreachable_is_503_naming_it_while_health_stays_200(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with gateway(tmp_path, rasa_url=dead, action_server_url=dead) as client:
        before = client.get("/health/ready")
        assert before.status_code == 503 and "database" not in before.json()["down"]
        assert set(before.json()["down"]) == {f"rasa:{dead}", "action_server"}
        db = tmp_path / "gw.db"
        moved = tmp_path / "gw.db.away"
        db.rename(moved)
        db.mkdir()  # SQLite cannot open a directory: the database is unreachable
        try:
            ready = client.get("/health/ready")
            assert ready.status_code == 503
            assert "database" in ready.json()["down"]
            assert "worker" not in {check["name"] for check in ready.json()["checks"]}  # unknown, not guessed
            assert client.get("/health/live").status_code == 200
            overview = client.get("/health")  # the people's overview keeps answering 200
            assert overview.status_code == 200 and overview.json()["database"]["up"] is False
        finally:
            shutil.rmtree(db)
            moved.rename(db)
        assert "database" not in client.get("/health/ready").json()["down"]
