"""The limits in a real gateway process (uvicorn, as tests/stack.py and the benchmark start it):
the stack's raised limits let a burst through, a lower one set in `extra_env` triggers, and a
413 comes back before a large body is read. No Rasa: replies are the "unavailable" text."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.stack import ROOT, Stack, free_port
from tests.webchat import WebchatClient


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("limits-process")
    stack = Stack(
        workdir=workdir,
        database_url=f"sqlite+aiosqlite:///{workdir / 'gw.db'}",
        extra_env={"RATE_LIMIT_WEBCHAT_SESSION": "3/minute", "RASA_TIMEOUT_SECONDS": "0.5"},
    )
    for name in ("rasa", "actions", "gateway"):
        stack.ports[name] = free_port()  # nothing listens on Rasa's and the action server's
    subprocess.run([sys.executable, "-m", "app.manage", "migrate"], cwd=ROOT, env=stack.env(), check=True)
    stack.start("gateway")
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{stack.gateway_url}/health", timeout=2)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or stack.procs["gateway"].poll() is not None:
                raise RuntimeError(stack.tail("gateway")) from None
            time.sleep(0.3)
    try:
        yield stack
    finally:
        stack.down()


def say(stack: Stack, label: str) -> httpx.Response:
    return stack.chat.send(label, "hello", locale="sv")  # type: ignore[no-any-return]


def test_a_lower_limit_from_extra_env_triggers(gateway: Stack) -> None:
    assert [say(gateway, "process-session-1").status_code for _ in range(3)] == [200, 200, 200]
    refused = say(gateway, "process-session-1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["messages"][0]["text"].startswith("Du skickar meddelanden")


def test_the_stack_limits_let_a_burst_from_one_address_through(gateway: Stack) -> None:
    """40 sessions from 127.0.0.1 at once, like the benchmark: the per-IP limit is the stack's."""
    with httpx.Client(base_url=gateway.gateway_url, timeout=30) as client:
        chat = WebchatClient(client.post)
        codes = {chat.send(f"burst-{n:04d}", "hi").status_code for n in range(40)}
    assert codes == {200}


def test_too_large_is_refused_by_the_real_server(gateway: Stack) -> None:
    body = b'{"session_id": "process-big-1", "text": "' + b"x" * 100_000 + b'"}'
    reply = httpx.post(
        f"{gateway.gateway_url}/webchat/messages", content=body, headers={"content-type": "application/json"}
    )
    assert (reply.status_code, reply.json()) == (413, {"detail": "request_too_large"})

    def chunks() -> Iterator[bytes]:
        yield b'{"session_id": "process-big-2", "text": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    streamed = httpx.post(
        f"{gateway.gateway_url}/webchat/messages", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert say(gateway, "process-after-big").status_code == 200  # the server is fine afterwards
