"""Web chat clients for tests and tools: every conversation first gets a session the gateway
issued (POST /webchat/sessions). Tests name their chats with labels ("e2e-balance"); the label's
issued id is created on first use and follows rotations (`session_id` in a response)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from typing import Any, Protocol


class Poster(Protocol):
    def __call__(self, path: str, **kwargs: Any) -> Any: ...


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebchatClient:
    """`post(path, json=...)` is any HTTP client's post (TestClient.post, or httpx bound to a URL)."""

    def __init__(self, post: Poster | Callable[..., Any]) -> None:
        self.post = post
        self.ids: dict[str, str] = {}

    def new_session(self) -> str:
        response = self.post("/webchat/sessions")
        assert response.status_code == 201, (response.status_code, response.text)
        return str(response.json()["session_id"])

    def session(self, label: str) -> str:
        """The issued id behind a label (a new session on first use)."""
        if label not in self.ids:
            self.ids[label] = self.new_session()
        return self.ids[label]

    def send(self, label: str, text: str, **extra: object) -> Any:
        """POST one message for the label's session; the raw response (a rotated id is kept)."""
        response = self.post("/webchat/messages", json={"session_id": self.session(label), "text": text, **extra})
        if response.status_code == 200 and (rotated := response.json().get("session_id")):
            self.ids[label] = rotated
        return response

    def say(self, label: str, text: str, **extra: object) -> list[dict[str, Any]]:
        response = self.send(label, text, **extra)
        response.raise_for_status()
        return response.json()["messages"]


def conversation_key(db: sqlite3.Connection, session_id: str) -> str | None:
    """The web chat conversation's address (conversations.external_id) behind an issued id."""
    row = db.execute(
        "SELECT conversation_key FROM webchat_sessions WHERE token_hash = ?", (digest(session_id),)
    ).fetchone()
    return str(row[0]) if row else None
