"""HTTP client for Rasa (through our `gateway` connector) and the action server's health."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

ACTION_SERVER_PROBE_TTL = 2.0  # seconds a known action-server state is trusted


class RasaUnavailable(Exception):
    """Rasa could not be reached or failed; the caller answers the debtor politely."""


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RasaReply:
    messages: list[BotMessage]
    intent: str | None
    confidence: float | None


class RasaClient:
    def __init__(
        self, *, rasa_url: str, action_server_url: str, http: httpx.AsyncClient, timeout: float, health_timeout: float
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.action_server_url = action_server_url.rstrip("/")
        self.http = http
        self.timeout = timeout
        self.health_timeout = health_timeout
        self._actions_up: tuple[float, bool] | None = None

    async def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> RasaReply:
        try:
            response = await self.http.post(
                f"{self.rasa_url}/webhooks/gateway/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
                timeout=self.timeout,
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc
        messages = [
            BotMessage(
                text=str(m.get("text") or ""),
                buttons=[
                    {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                    for b in m.get("buttons") or []
                ],
            )
            for m in body.get("messages", [])
            if m.get("text") or m.get("buttons")
        ]
        intent = body.get("intent") or {}
        return RasaReply(messages=messages, intent=intent.get("name"), confidence=intent.get("confidence"))

    async def _alive(self, url: str) -> tuple[bool, str]:
        try:
            response = await self.http.get(url, timeout=self.health_timeout)
        except httpx.HTTPError as exc:
            return False, type(exc).__name__
        return response.status_code == 200, f"HTTP {response.status_code}"

    async def rasa_status(self) -> tuple[bool, str]:
        """Up only when a model is loaded (GET /status needs --enable-api)."""
        try:
            response = await self.http.get(f"{self.rasa_url}/status", timeout=self.health_timeout)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return False, type(exc).__name__
        if response.status_code != 200:
            return False, f"HTTP {response.status_code}"
        model = body.get("model_file")
        return bool(model), str(model or "no model loaded")

    async def action_server_status(self) -> tuple[bool, str]:
        up, detail = await self._alive(f"{self.action_server_url}/health")
        self._actions_up = (time.monotonic(), up)
        return up, detail

    async def action_server_up(self) -> bool:
        """Cached for a moment: checked before every turn, since without the action server
        Rasa would answer half a conversation (no AI disclosure, no verification)."""
        if self._actions_up and time.monotonic() - self._actions_up[0] < ACTION_SERVER_PROBE_TTL:
            return self._actions_up[1]
        up, _ = await self.action_server_status()
        return up

    async def set_paused(self, *, sender: str, paused: bool) -> bool:
        """Mirror a hand-over on Rasa's tracker (ConversationPaused / ConversationResumed) through
        Rasa's HTTP API; False when Rasa could not be reached (the caller retries later)."""
        try:
            response = await self.http.post(
                f"{self.rasa_url}/conversations/{sender}/tracker/events",
                params={"include_events": "NONE"},
                json={"event": "pause" if paused else "resume"},
                timeout=self.timeout,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200
