"""What every fake provider API shares: a real HTTP server on 127.0.0.1 (free port) in a
background thread. A fake subclasses `LoopbackFake` and answers `_handle`; the SDK under test
reaches it through its own seam (`stripe.api_base`, a twilio http client, PTB's `base_url`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Self


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str | None = None  # None: the fake's default
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: LoopbackFake

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on some resolvers.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing pooled outlives a test

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return f"{type(self.server.fake).__name__}/1.0"

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = fake._handle(method, self.path, self._read_body(), headers)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type or fake.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (PTB cancels a long poll when it stops)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class LoopbackFake:
    content_type = "application/json"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _handle(self, method: str, target: str, raw: bytes, headers: dict[str, str]) -> Response:
        raise NotImplementedError

    def _starting(self) -> None:
        """Hook: reset state before the server starts."""

    def _stopping(self) -> None:
        """Hook: wake anything waiting (long polls) before the server stops."""

    def start(self) -> Self:
        if self._server is None:
            self._starting()
            server = _Server((self.host, 0), _Handler)
            server.fake = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=type(self).__name__.lower(),
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        self._stopping()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the base the SDK under test is pointed at."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running: call start() or use it as a context manager")
        return f"http://{self.host}:{self._server.server_port}"
