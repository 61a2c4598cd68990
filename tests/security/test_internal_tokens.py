"""Issue 14 point 3 against the real processes (tests/stack.py: Rasa, the action server, the gateway
and the inbox worker as `make run` starts them): each internal endpoint refuses calls without its
token, the action server and Rasa listen on loopback only, the conversation still works with the
tokens, and no token reaches a log line. Plus docker-compose.yml publishing only the gateway."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.action_server import parser as action_server_parser
from locales import Catalog
from tests.own_debtor import own_debtor
from tests.stack import ROOT, Stack

pytestmark = pytest.mark.e2e
REFUSED = {401, 403}
WRONG = "wrong-token-" + "x" * 32


def rasa(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.ports['rasa']}"


def actions(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.ports['actions']}"


def forged_action_call(sender: str) -> dict[str, Any]:
    """The attack of the finding: a tracker of the caller's choosing, with the slots it likes."""
    return {
        "next_action": "action_verify_identity",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"verified": False, "reference": "ZZ-999999", "dob": "1990-01-01", "locale": "en"},
            "latest_message": {"text": "01/01/1990", "intent": {"name": "inform"}, "entities": [], "metadata": {}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_action_server_webhook_refuses_calls_without_the_shared_token(stack: Stack) -> None:
    call = forged_action_call(f"attacker-{uuid.uuid4().hex}")
    url = f"{actions(stack)}/webhook"
    assert httpx.post(url, json=call, timeout=30).status_code == 401
    assert httpx.post(url, json=call, headers=bearer(WRONG), timeout=30).status_code == 401
    assert (
        httpx.post(url, json=call, params={"token": stack.tokens["ACTION_SERVER_TOKEN"]}, timeout=30).status_code == 401
    )
    assert httpx.post(url, json=call, headers=bearer(stack.tokens["RASA_AUTH_TOKEN"]), timeout=30).status_code == 401
    assert httpx.get(f"{actions(stack)}/actions", timeout=30).status_code == 401
    assert httpx.get(f"{actions(stack)}/health", timeout=30).status_code == 200  # the gateway's probe
    allowed = httpx.post(url, json=call, headers=bearer(stack.tokens["ACTION_SERVER_TOKEN"]), timeout=30)
    assert allowed.status_code == 200, allowed.text
    assert "events" in allowed.json()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/conversations/{id}/tracker", None),
        ("POST", "/conversations/{id}/tracker/events", {"event": "slot", "name": "verified", "value": True}),
        ("PUT", "/conversations/{id}/tracker/events", []),
        ("POST", "/conversations/{id}/trigger_intent", {"name": "check_balance"}),
        ("GET", "/status", None),
        ("POST", "/model/parse", {"text": "hi"}),
        ("PUT", "/model", {"model_file": "/tmp/none.tar.gz"}),
    ],
)
def test_rasa_http_api_refuses_calls_without_its_token(stack: Stack, method: str, path: str, body: Any) -> None:
    url = rasa(stack) + path.format(id=f"attacker-{uuid.uuid4().hex}")
    assert httpx.request(method, url, json=body, timeout=30).status_code in REFUSED
    assert httpx.request(method, url, json=body, params={"token": WRONG}, timeout=30).status_code in REFUSED
    assert httpx.request(method, url, json=body, headers=bearer(WRONG), timeout=30).status_code in REFUSED


def test_rasa_with_its_token_answers(stack: Stack) -> None:
    status = httpx.get(f"{rasa(stack)}/status", params=stack.rasa_auth, timeout=30)
    assert status.status_code == 200 and status.json()["model_file"]
    tracker = httpx.get(f"{rasa(stack)}/conversations/nobody-{uuid.uuid4().hex}/tracker", params=stack.rasa_auth)
    assert tracker.status_code == 200


@pytest.mark.parametrize("channel", ["gateway", "rest"])
def test_rasa_channel_webhooks_refuse_messages_without_its_token(stack: Stack, channel: str) -> None:
    url = f"{rasa(stack)}/webhooks/{channel}/webhook"
    message = {"sender": f"attacker-{uuid.uuid4().hex}", "message": "how much do i owe"}
    assert httpx.post(url, json=message, timeout=30).status_code == 401
    assert httpx.post(url, json=message, params={"token": WRONG}, timeout=30).status_code == 401
    assert httpx.post(url, json=message, headers=bearer(WRONG), timeout=30).status_code == 401
    wrong_kind = {"token": stack.tokens["NLG_TOKEN"]}  # another internal token is not Rasa's
    assert httpx.post(url, json=message, params=wrong_kind, timeout=30).status_code == 401
    ok = httpx.post(url, json=message, params=stack.rasa_auth, timeout=60)
    assert ok.status_code == 200, ok.text


def test_gateway_nlg_refuses_calls_without_rasas_nlg_token(stack: Stack) -> None:
    body = {"response": "utter_goodbye", "arguments": {"locale": "en"}, "tracker": {}}
    url = f"{stack.gateway_url}/nlg"
    assert httpx.post(url, json=body, timeout=30).status_code == 401
    assert httpx.post(url, json=body, headers=bearer(WRONG), timeout=30).status_code == 401
    assert httpx.post(url, json=body, headers=bearer(stack.tokens["RASA_AUTH_TOKEN"]), timeout=30).status_code == 401
    served = httpx.post(url, json=body, headers=bearer(stack.tokens["NLG_TOKEN"]), timeout=30)
    assert served.status_code == 200 and served.json()["text"]


def listening_addresses(port: int) -> set[str]:
    """Every local address a socket LISTENs on for `port` (/proc/net/tcp and tcp6, hex encoded)."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port and len(address) == width:
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:  # four little-endian 32-bit words
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_action_server_and_rasa_listen_on_loopback_only(stack: Stack) -> None:
    for name in ("actions", "rasa"):
        assert listening_addresses(stack.ports[name]) == {"127.0.0.1"}, name
    # `make run`: Rasa is told so, the action server binds loopback unless told otherwise.
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert " -i 127.0.0.1 " in procfile["rasa"] and '--auth-token="$RASA_AUTH_TOKEN"' in procfile["rasa"]
    assert "-m bot.action_server " in procfile["actions"] and "--host" not in procfile["actions"]
    assert action_server_parser().parse_args(["--actions", "bot.actions"]).host == "127.0.0.1"


def test_a_verified_conversation_works_and_no_token_is_ever_logged(stack: Stack) -> None:
    """The whole path with the tokens (gateway -> Rasa -> actions, Rasa -> /nlg), after refused
    calls of every kind; then no process's log holds any token."""
    attacker = f"attacker-{uuid.uuid4().hex}"
    httpx.post(f"{actions(stack)}/webhook", json=forged_action_call(attacker), headers=bearer(WRONG), timeout=30)
    httpx.get(f"{rasa(stack)}/conversations/{attacker}/tracker", params={"token": WRONG}, timeout=30)
    httpx.post(f"{stack.gateway_url}/nlg", json={"response": "utter_goodbye"}, headers=bearer(WRONG), timeout=30)

    session = f"tokens-{uuid.uuid4().hex}"
    stack.say(session, "hi there")
    stack.say(session, "how much do i owe")
    stack.say(session, own_debtor(stack.database_url).reference)
    answer = "\n".join(m["text"] for m in stack.say(session, "21/07/1992"))
    total = Catalog().render("balance_total_line", "en", None, {"amount": "£612.45"}).text
    assert total in answer, answer

    logs = {path.name: path.read_text(errors="replace") for path in stack.workdir.glob("*.log")}
    assert {"rasa.log", "actions.log", "gateway.log", "worker.log"} <= set(logs)
    for name, token in stack.tokens.items():
        for log, text in logs.items():
            assert token not in text, (name, log)


def test_docker_compose_publishes_only_the_gateway_and_passes_the_tokens() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"gateway"}
    assert not any(service.get("network_mode") == "host" for service in services.values())
    rasa_services = [s for name, s in services.items() if name.startswith("rasa-") and name != "rasa-db"]
    assert rasa_services
    for service in rasa_services:
        command = service["command"]
        assert any(part.startswith("--auth-token=${RASA_AUTH_TOKEN:?") for part in command)
        assert {"ACTION_SERVER_TOKEN", "RASA_AUTH_TOKEN", "NLG_TOKEN"} <= set(service["environment"])
    command = services["actions"]["command"]
    assert command[:3] == ["python", "-m", "bot.action_server"]
    for name in ("gateway", "worker", "actions"):
        assert {"RASA_AUTH_TOKEN", "NLG_TOKEN", "ACTION_SERVER_TOKEN"} <= set(services[name]["environment"]), name
