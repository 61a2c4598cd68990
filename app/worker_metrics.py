"""The inbox worker's own `/metrics` port (WORKER_METRICS_HOST:WORKER_METRICS_PORT, default
127.0.0.1:9101). The worker answers the provider channels' turns, so their turn latencies,
sends and NLU confidences are counted in its process; Prometheus scrapes it as a target of its
own (docs/operations.md says why not the multiprocess mode). Same rule as the gateway's
/metrics: loopback clients, or the METRICS_TOKEN bearer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from core import metrics

log = logging.getLogger(__name__)
StartResponse = Callable[..., Any]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not news (the JSON logs stay about conversations)."""


def guarded_app(token: str | None) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """prometheus-client's WSGI app behind the loopback-or-token rule."""
    serve = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = {
            key[len("HTTP_") :].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if not metrics.scrape_allowed(peer=environ.get("REMOTE_ADDR"), headers=headers, token=token):
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [b'{"detail":"forbidden"}']
        result: Iterable[bytes] = serve(environ, start_response)
        return result

    return app


class MetricsServer:
    """A daemon thread serving the worker's metrics; `stop` for tests."""

    def __init__(self, host: str, port: int, token: str | None) -> None:
        self.httpd = make_server(host, port, guarded_app(token), ThreadingWSGIServer, handler_class=_Quiet)
        self.port = int(self.httpd.server_port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="worker-metrics", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def start(host: str, port: int, token: str | None) -> MetricsServer | None:
    """Serve the worker's metrics; a port taken (two consumers on one host) is logged, not fatal:
    the worker's job is the inbox, not its metrics."""
    if not port:
        return None
    try:
        server = MetricsServer(host, port, token)
    except OSError as exc:
        log.warning("worker.metrics_unavailable", extra={"port": port, "error": type(exc).__name__})
        return None
    log.info("worker.metrics", extra={"host": host, "port": server.port})
    return server
