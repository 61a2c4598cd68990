"""Issue 14 point 3, in process: the internal tokens are generated once and never printed, compared
in constant time and fail closed, `/nlg` refuses calls without Rasa's NLG token, and every call the
gateway, worker and admin make to Rasa carries Rasa's token (Rasa faked at the network edge).
The same against the real processes: tests/security/test_internal_tokens.py."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from backoffice.training import activation
from core import internal_tokens
from engine.conversations.rasa_client import RasaClient, RasaUnavailable
from tests.stack import ROOT, free_port

NLG_TOKEN = "nlg-token-for-token-tests-0123456789"


def test_make_run_generates_the_tokens_once_and_never_prints_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "var" / "secrets.env"
    assert internal_tokens.main([str(path)]) == 0
    first = dict(line.split("=", 1) for line in path.read_text().splitlines())
    assert set(first) == set(internal_tokens.TOKEN_NAMES)
    assert all(len(value) >= 40 for value in first.values()) and len(set(first.values())) == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    printed = capsys.readouterr().out
    assert "RASA_AUTH_TOKEN" in printed and not any(value in printed for value in first.values())

    assert internal_tokens.main([str(path)]) == 0  # a restart keeps them, and says nothing
    assert path.read_text().splitlines() == [f"{k}={v}" for k, v in first.items()]
    assert capsys.readouterr().out == ""

    path.write_text(f"NLG_TOKEN={first['NLG_TOKEN']}")  # a token added later is generated once
    assert internal_tokens.ensure_file(path) == ["ACTION_SERVER_TOKEN", "RASA_AUTH_TOKEN"]
    again = dict(line.split("=", 1) for line in path.read_text().splitlines())
    assert again["NLG_TOKEN"] == first["NLG_TOKEN"] and set(again) == set(internal_tokens.TOKEN_NAMES)
    assert internal_tokens.main([]) == 2


def test_honcho_hands_the_generated_file_to_every_process(tmp_path: Path) -> None:
    """`make run` passes `-e .env,var/secrets.env`: what honcho reads is what was generated."""
    from honcho.command import _read_env

    internal_tokens.ensure_file(tmp_path / "var" / "secrets.env")
    written = dict(line.split("=", 1) for line in (tmp_path / "var" / "secrets.env").read_text().splitlines())
    assert _read_env(str(tmp_path), ".env,var/secrets.env") == written
    makefile = (ROOT / "Makefile").read_text()
    assert makefile.count("honcho -e .env,$(SECRETS_ENV)") == 2  # one and several Rasa instances
    assert "python -m core.internal_tokens $(SECRETS_ENV)" in makefile


def test_tokens_compare_in_constant_time_and_fail_closed() -> None:
    token = SecretStr("right-token-0123456789")
    assert internal_tokens.token_matches("right-token-0123456789", token)
    for sent in (None, "", "right-token-012345678", "right-token-01234567890", "RIGHT-TOKEN-0123456789"):
        assert not internal_tokens.token_matches(sent, token)
    assert not internal_tokens.token_matches("anything", None)  # nothing configured: nobody gets in
    assert not internal_tokens.token_matches("", SecretStr(""))
    assert internal_tokens.bearer("Bearer abc") == "abc" and internal_tokens.bearer("bearer  abc ") == "abc"
    for header in (None, "", "Bearer", "Bearer ", "Basic abc", "abc"):
        assert internal_tokens.bearer(header) is None


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('tokens') / 'gw.db'}"
    migrate(url)
    return url


def gateway(database: str, *, nlg_token: str | None = None) -> TestClient:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=database,
        rasa_url=dead,
        action_server_url=dead,
        health_timeout_seconds=0.5,
        nlg_token=SecretStr(nlg_token) if nlg_token else None,
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def client(database: str) -> Iterator[TestClient]:
    with gateway(database, nlg_token=NLG_TOKEN) as client:
        yield client


def test_nlg_refuses_calls_without_rasas_nlg_token(client: TestClient) -> None:
    body = {"response": "utter_goodbye", "arguments": {"locale": "en"}}
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Basic {NLG_TOKEN}"},
        {"Authorization": NLG_TOKEN},
        {"X-Token": NLG_TOKEN},
    ):
        refused = client.post("/nlg", json=body, headers=headers)
        assert refused.status_code == 401 and refused.json() == {"detail": "unauthorized"}, headers
        assert NLG_TOKEN not in refused.text
    assert client.post(f"/nlg?token={NLG_TOKEN}", json=body).status_code == 401  # a header, not the URL
    assert client.post("/nlg", json={"response": ["not", "a", "name"]}).status_code == 401  # before validation
    served = client.post("/nlg", json=body, headers={"Authorization": f"Bearer {NLG_TOKEN}"})
    assert served.status_code == 200 and served.json()["text"]


def test_a_gateway_without_an_nlg_token_serves_nlg_to_nobody(database: str) -> None:
    with gateway(database) as client:
        sent = client.post("/nlg", json={"response": "utter_goodbye"}, headers={"Authorization": "Bearer x" * 3})
        assert sent.status_code == 401


class RecordingRasa:
    """Rasa at the network edge: records every request, answers like Rasa does."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "debtor.tar.gz"})
        if request.url.path == "/model":
            return httpx.Response(204)
        if request.url.path.endswith("/webhook"):
            return httpx.Response(200, json={"messages": [{"text": "hi"}], "intent": {"name": "greet"}})
        return httpx.Response(200, json={})


async def test_every_call_to_rasa_carries_its_token() -> None:
    rasa = RecordingRasa()
    async with httpx.AsyncClient(transport=httpx.MockTransport(rasa)) as http:
        client = RasaClient(
            rasa_urls=["http://r1:5005", "http://r2:5005"], action_server_url="http://a:5055", http=http,
            timeout=1, health_timeout=1, auth_token="rasa-token-0123456789",
        )  # fmt: skip
        await client.send(sender="s1", text="hi", metadata={})
        assert await client.set_paused(sender="s1", paused=True)
        assert await client.reset_tracker(sender="s1")
        assert (await client.rasa_status())[0]
        await activation.load_everywhere(
            http=http,
            rasa_urls=client.instances,
            model=Path("/m/debtor.tar.gz"),
            fallback=None,
            token=client.auth_token,
        )
        assert await client.action_server_up()  # the action server's health probe needs no token
    to_rasa = [r for r in rasa.requests if r.url.host != "a"]
    assert {r.url.path for r in to_rasa} >= {"/webhooks/gateway/webhook", "/status", "/model"}
    assert all(r.url.params.get("token") == "rasa-token-0123456789" for r in to_rasa), [str(r.url) for r in to_rasa]
    assert next(r for r in to_rasa if r.url.path.endswith("/events")).url.params["include_events"] == "NONE"
    probe = next(r for r in rasa.requests if r.url.host == "a")
    assert probe.url.path == "/health" and "token" not in probe.url.params


async def test_a_rasa_error_never_carries_the_token_onwards() -> None:
    """httpx names the URL (query included) in its errors; the inbox stores that text (`last_error`)."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(503))) as http:
        client = RasaClient(
            rasa_url="http://r:5005", action_server_url="http://a:5055", http=http, timeout=1, health_timeout=1,
            auth_token="rasa-token-0123456789",
        )  # fmt: skip
        with pytest.raises(RasaUnavailable) as raised:
            await client.send(sender="s1", text="hi", metadata={})
    assert "503" in str(raised.value) and "[secret]" in str(raised.value)
    assert "rasa-token-0123456789" not in str(raised.value)


def test_the_action_server_will_not_start_without_its_token_or_with_grpc() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ACTION_SERVER_TOKEN", "ACTION_SERVER_TOKEN_FILE")}
    env.update(PYTHONPATH=str(ROOT), SECRETS_DIR=str(ROOT / "no-such-dir"))
    command = [sys.executable, "-m", "bot.action_server", "--actions", "bot.actions", "-p", str(free_port())]
    missing = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode != 0 and "ACTION_SERVER_TOKEN is not set" in missing.stderr
    env["ACTION_SERVER_TOKEN"] = "actions-token-0123456789"
    grpc = subprocess.run([*command, "--grpc"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert grpc.returncode != 0 and "--grpc is not supported" in grpc.stderr
    assert "actions-token-0123456789" not in grpc.stdout + grpc.stderr
