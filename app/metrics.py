"""`GET /metrics`: the gateway's Prometheus metrics (definitions in core/metrics.py), plus the
gauges only the database knows (inbox backlog, handoff queue), read at scrape time.

The database is read asynchronously with a timeout before the text is rendered, and the
rendering runs in a thread: a slow database or a large registry never blocks the event loop.
A scrape that could not read the database says so (`assistant_metrics_database_up 0`) and
leaves the database gauges out rather than reporting stale values.

The worker is another process with its own counters (turns, sends, NLU confidence): it serves
them on its own port (app/worker_metrics.py), scraped as a second target. docs/operations.md
says why that and not prometheus-client's multiprocess mode.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from core import metrics
from core.database import READ_ONLY
from engine.inbox import service as inbox_service
from handoff import queries as handoff_queries

log = logging.getLogger(__name__)
router = APIRouter(tags=["ops"])


@dataclass(frozen=True)
class Queues:
    """What waits, read from the database for one scrape."""

    inbox_depth: int
    inbox_oldest_seconds: float
    handoff_waiting: int
    handoff_longest_wait_seconds: float


async def read_queues(sessionmaker: async_sessionmaker[AsyncSession]) -> Queues:
    async with sessionmaker() as session:
        await session.connection(execution_options=READ_ONLY)  # a read: no write lock on SQLite
        depth, oldest = await inbox_service.backlog(session=session)
        waiting, longest = await handoff_queries.waiting(session=session)
    return Queues(depth, oldest, waiting, longest)


class QueuesCollector(Collector):
    """One scrape's database gauges (registered in a registry of its own per scrape)."""

    def __init__(self, queues: Queues | None) -> None:
        self.queues = queues

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "assistant_metrics_database_up", "1 when this scrape could read the database gauges in time, else 0."
        )
        up.add_metric([], 0.0 if self.queues is None else 1.0)
        yield up
        if self.queues is None:
            return
        q = self.queues
        for name, documentation, value in (
            ("assistant_inbox_depth", "Inbound provider messages not yet answered and sent.", q.inbox_depth),
            (
                "assistant_inbox_oldest_pending_age_seconds",
                "Age of the oldest waiting inbound message (0 when none): the worker's lag.",
                q.inbox_oldest_seconds,
            ),
            ("assistant_handoff_queue_size", "Handoff cases waiting for an agent.", q.handoff_waiting),
            (
                "assistant_handoff_longest_wait_seconds",
                "How long the longest-waiting handoff case has waited for an agent (0 when none).",
                q.handoff_longest_wait_seconds,
            ),
        ):
            gauge = GaugeMetricFamily(name, documentation)
            gauge.add_metric([], float(value))
            yield gauge


def render(queues: Queues | None) -> bytes:
    """The process's metrics (prometheus-client's default registry) and this scrape's gauges."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(QueuesCollector(queues))
    return generate_latest(REGISTRY) + generate_latest(scrape)


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    """Loopback clients or the METRICS_TOKEN bearer only (core/metrics.py scrape_allowed)."""
    settings: GatewaySettings = request.app.state.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    peer = request.client.host if request.client else None
    if not metrics.scrape_allowed(peer=peer, headers=request.headers, token=token):
        raise HTTPException(status_code=403, detail="forbidden")
    try:
        queues: Queues | None = await asyncio.wait_for(
            read_queues(request.app.state.sessionmaker), timeout=settings.metrics_timeout_seconds
        )
    except Exception as exc:
        log.warning("metrics.database_unread", extra={"error": type(exc).__name__})
        queues = None  # down or slow: said by assistant_metrics_database_up, the rest still served
    body = await asyncio.to_thread(render, queues)
    return Response(content=body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
