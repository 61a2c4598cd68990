"""The worker's own metrics port (app/worker_metrics.py): served from its process's registry,
to loopback or the token only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app import worker_metrics
from core import metrics

TOKEN = "worker-metrics-token-0123456789"


@pytest.fixture
def server() -> Iterator[worker_metrics.MetricsServer]:
    started = worker_metrics.MetricsServer("127.0.0.1", 0, TOKEN)  # a free port
    yield started
    started.stop()


def test_serves_the_process_counters_to_loopback(server: worker_metrics.MetricsServer) -> None:
    metrics.turn_finished("sms", 1.5)  # what a drained inbox event records in the worker
    response = httpx.get(f"http://127.0.0.1:{server.port}/metrics")
    assert response.status_code == 200
    assert 'assistant_turn_seconds_count{channel="sms"}' in response.text


def test_a_forwarded_client_needs_the_token(server: worker_metrics.MetricsServer) -> None:
    url = f"http://127.0.0.1:{server.port}/metrics"
    assert httpx.get(url, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 403
    authorized = {"X-Forwarded-For": "203.0.113.7", "Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(url, headers=authorized).status_code == 200


def test_a_taken_port_is_not_fatal(server: worker_metrics.MetricsServer) -> None:
    assert worker_metrics.start("127.0.0.1", server.port, None) is None
    assert worker_metrics.start("127.0.0.1", 0, None) is None  # port 0: turned off
