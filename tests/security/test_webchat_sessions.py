"""Issue 14, finding "web chat session ids are chosen by the client", on the real processes
(Rasa, action server, gateway, inbox worker): ids the server did not issue are refused, a socket
is bound to one session, no issued id reaches a log line (uvicorn's access log switched on, as
the Docker image runs it) and verification lapses after the idle time (short here: 6 s)."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.test_handoff import PASSWORD, create_staff
from tests.own_debtor import own_debtor
from tests.security.stacks import IDLE_SECONDS, SecurityStack
from tests.stack import Stack

pytestmark = pytest.mark.e2e
BALANCE = "£612.45"


@pytest.fixture
def stack(security_sqlite_stack: SecurityStack) -> SecurityStack:
    """The security tests' SQLite stack (tests/security/stacks.py): uvicorn's access log on (the
    Docker image's command), so it is checked too, and a short verified-idle time."""
    return security_sqlite_stack


def socket(stack: Stack, session_id: str) -> ClientConnection:
    ws = connect(stack.gateway_url.replace("http://", "ws://") + "/webchat/ws", open_timeout=30)
    ws.send(json.dumps({"type": "hello", "session_id": session_id}))
    assert json.loads(ws.recv(timeout=30)) == {"type": "ready"}
    return ws


def exchange(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    ws.send(json.dumps(frame))
    return json.loads(ws.recv(timeout=60))  # type: ignore[no-any-return]


def messages_in(stack: Stack, label: str) -> int:
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        return int(
            db.execute(
                "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.external_id = ?",
                (stack.address(label),),
            ).fetchone()[0]
        )


def plain(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages).replace("\xa0", " ")


def test_a_client_chosen_session_id_is_refused(stack: Stack) -> None:
    chosen = "my-own-session-id-12345"
    refused = httpx.post(f"{stack.gateway_url}/webchat/messages", json={"session_id": chosen, "text": "hi"}, timeout=30)
    assert refused.status_code == 401 and refused.json() == {"detail": "session_unknown"}
    ws = connect(stack.gateway_url.replace("http://", "ws://") + "/webchat/ws", open_timeout=30)
    ws.send(json.dumps({"type": "hello", "session_id": chosen}))
    assert json.loads(ws.recv(timeout=30)) == {"error": "session_unknown"}
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401  # get a new session
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        assert db.execute("SELECT COUNT(*) FROM conversations WHERE external_id = ?", (chosen,)).fetchone() == (0,)


def test_a_socket_writes_and_reads_only_its_own_session(stack: Stack) -> None:
    assert stack.say("mine", "hello")
    stack.say("theirs", "I want to talk to a person")  # queued for an agent
    before = messages_in(stack, "theirs")
    with socket(stack, stack.chat.session("mine")) as mine, socket(stack, stack.chat.session("theirs")) as theirs:
        # A frame for another session on my socket is refused and stored nowhere.
        refused = exchange(mine, {"session_id": stack.chat.session("theirs"), "text": "written into their chat"})
        assert refused == {"error": "session_mismatch"}
        assert messages_in(stack, "theirs") == before

        # An agent answers them: the push reaches their socket, not mine.
        agent = httpx.Client(base_url=stack.gateway_url, timeout=30)
        login = agent.post("/agent/api/login", json={"username": create_staff(stack, "Sam"), "password": PASSWORD})
        assert login.status_code == 200, login.text
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
            [(conversation,)] = db.execute(
                "SELECT id FROM conversations WHERE external_id = ?", (stack.address("theirs"),)
            ).fetchall()
        assert agent.post(f"/agent/api/conversations/{conversation}/take", json={}, headers=csrf).status_code == 200
        reply = agent.post(
            f"/agent/api/conversations/{conversation}/reply", json={"text": "Hi, Sam here"}, headers=csrf
        )
        assert reply.status_code == 200, reply.text
        pushed = [json.loads(theirs.recv(timeout=30)) for _ in range(2)]  # "Sam joined", then the reply
        assert all(frame.get("push") for frame in pushed), pushed
        assert pushed[-1]["messages"] == [{"text": "Hi, Sam here", "buttons": []}]
        answer = exchange(mine, {"text": "hello again"})
        assert "push" not in answer and answer["messages"], answer  # my next frame is my own reply
        with pytest.raises(TimeoutError):
            mine.recv(timeout=1)  # and nothing else was queued for me


def test_no_issued_session_id_reaches_a_log_line(stack: Stack) -> None:
    issued = [stack.chat.session("logged")]
    stack.say("logged", "how much do I owe")
    stack.say("logged", own_debtor(stack.database_url).reference)
    answer = stack.say("logged", "21/07/1992")
    assert BALANCE in plain(answer)
    issued.append(stack.chat.session("logged"))  # rotated after verification
    assert issued[0] != issued[1]
    with socket(stack, issued[1]) as ws:
        assert exchange(ws, {"session_id": issued[1], "text": "thanks"})["messages"]
    ended = httpx.post(f"{stack.gateway_url}/webchat/sessions/end", json={"session_id": issued[1]}, timeout=30)
    assert ended.status_code == 204

    logs = {path.name: path.read_text(errors="replace") for path in stack.workdir.glob("*.log")}
    gateway = logs["gateway.log"]
    assert "/webchat/messages" in gateway and "/webchat/ws" in gateway  # uvicorn did log these requests
    for name, text in logs.items():
        for session_id in issued:
            assert session_id not in text, f"an issued session id in {name}"


def test_verification_lapses_after_the_idle_time(stack: Stack) -> None:
    emily = own_debtor(stack.database_url)
    stack.say("lapse", "how much do I owe")
    stack.say("lapse", emily.reference)
    assert BALANCE in plain(stack.say("lapse", "21/07/1992"))
    assert BALANCE in plain(stack.say("lapse", "how much do I owe"))  # within the idle time: still verified
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        [(last,)] = db.execute(
            "SELECT last_inbound_at FROM conversations WHERE external_id = ?", (stack.address("lapse"),)
        ).fetchall()
    lapse_at = datetime.fromisoformat(last).replace(tzinfo=UTC) + timedelta(seconds=IDLE_SECONDS + 0.5)
    time.sleep(max(0.0, (lapse_at - datetime.now(UTC)).total_seconds()))  # the idle time itself is the condition
    again = plain(stack.say("lapse", "how much do I owe"))
    assert BALANCE not in again and "reference" in again, again  # asked to verify again
    with sqlite3.connect(stack.database_url.split("///", 1)[1]) as db:
        assert db.execute(
            "SELECT verified_at, debtor_id FROM conversations WHERE external_id = ?", (stack.address("lapse"),)
        ).fetchall() == [(None, None)]
    stack.say("lapse", emily.reference)
    assert BALANCE in plain(stack.say("lapse", "21/07/1992"))  # and verifying again works
