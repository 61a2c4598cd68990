"""HTTP client for Rasa (through our `gateway` connector) and the action server's health.

With several Rasa instances (RASA_URLS / RASA_INSTANCES) every call about a conversation goes to
the instance its id hashes to (engine/conversations/sharding.py): load spreads evenly and one
conversation's messages queue in one process. When that instance cannot be connected to, the
next one on the ring takes the call. That
failover is safe only because sharded instances share the tracker store (SQL) and the lock store
(Redis): see bot/endpoints-sharded.yml. Only calls that never reached Rasa are retried elsewhere
(connection refused / connect timeout), so a message is never processed twice.

Every call to Rasa carries RASA_AUTH_TOKEN as `?token=` (Rasa's `--auth-token` for its HTTP API,
bot/connectors/token_auth.py for the gateway channel); httpx's URL log lines mask it like every
secret (app/settings_sources.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from engine.conversations.sharding import HashRing
from engine.conversations.tracker_store import RasaTrackerStore
from locales.reply import Reply, buttons_from

ACTION_SERVER_PROBE_TTL = 2.0  # seconds a known action-server state is trusted
DOWN_RETRY_SECONDS = 5.0  # an instance that refused a connection is tried last for this long
# Errors raised before the request left this process: retrying on another instance is safe.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


class RasaUnavailable(Exception):
    """Rasa could not be reached or failed; the caller answers the debtor politely."""


@dataclass(frozen=True)
class RasaReply:
    messages: list[Reply]
    intent: str | None
    confidence: float | None
    failed_actions: tuple[str, ...] = ()  # custom actions that failed during the turn


@dataclass(frozen=True)
class InstanceStatus:
    url: str  # without credentials: shown on /health
    up: bool
    detail: str


def _public(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if rest else url


def summarize(statuses: Sequence[InstanceStatus]) -> tuple[bool, str]:
    """Up when every instance runs a model; the detail names the model(s), or the instances down."""
    if len(statuses) == 1:
        return statuses[0].up, statuses[0].detail
    down = [s for s in statuses if not s.up]
    if down:
        return False, f"{len(down)}/{len(statuses)} down: " + ", ".join(f"{s.url} {s.detail}" for s in down)
    return True, f"{len(statuses)} instances: " + ", ".join(sorted({s.detail for s in statuses}))


class RasaClient:
    def __init__(
        self,
        *,
        rasa_url: str = "",
        rasa_urls: Sequence[str] = (),
        action_server_url: str,
        http: httpx.AsyncClient,
        timeout: float,
        health_timeout: float,
        auth_token: str | None = None,
        tracker_store: RasaTrackerStore | None = None,
    ) -> None:
        urls = [u.rstrip("/") for u in rasa_urls] or [rasa_url.rstrip("/")]
        if not all(urls):
            raise ValueError("RasaClient needs rasa_url or rasa_urls")
        self.ring = HashRing(urls)
        self.rasa_url = urls[0]  # the first instance, for callers that talk to "a" Rasa
        self.action_server_url = action_server_url.rstrip("/")
        self.http = http
        self.timeout = timeout
        self.health_timeout = health_timeout
        self.auth_token = auth_token
        self._actions_up: tuple[float, bool] | None = None
        self._down_since: dict[str, float] = {}
        # Rasa's SQL tracker store when it has one (RASA_TRACKER_STORE_URL): erasure deletes its
        # rows there, since the API cannot (engine/conversations/tracker_store.py); None: in memory only.
        self.tracker_store = tracker_store

    @property
    def instances(self) -> tuple[str, ...]:
        """Every Rasa instance (model activation must reach each of them)."""
        return self.ring.nodes

    @property
    def auth_params(self) -> dict[str, str]:
        """Rasa's token as its HTTP API wants it (`?token=`); empty when none is configured."""
        return {"token": self.auth_token} if self.auth_token else {}

    def _without_token(self, text: str) -> str:
        """httpx puts the URL, query included, in its error texts: those end up in log lines and
        in the inbox's `last_error` column, so the token is masked out of them."""
        return text.replace(self.auth_token, "[secret]") if self.auth_token else text

    def url_for(self, sender: str) -> str:
        """The instance that owns this conversation."""
        return self.ring.node_for(sender)

    def _candidates(self, sender: str) -> list[str]:
        """The ring's preference order, instances that recently refused connections moved last."""
        order = self.ring.preference(sender)
        now = time.monotonic()
        recent = {u for u, since in self._down_since.items() if now - since < DOWN_RETRY_SECONDS}
        return [u for u in order if u not in recent] + [u for u in order if u in recent]

    async def _request(self, sender: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """`method path` on the conversation's instance, failing over only when nothing was sent."""
        error: httpx.HTTPError | None = None
        params = {**kwargs.pop("params", {}), **self.auth_params}
        for url in self._candidates(sender):
            try:
                response = await self.http.request(
                    method, f"{url}{path}", params=params, timeout=self.timeout, **kwargs
                )
            except NOT_SENT as exc:
                self._down_since[url] = time.monotonic()
                error = exc
                continue
            self._down_since.pop(url, None)
            return response
        assert error is not None  # the ring is never empty
        raise error

    async def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> RasaReply:
        try:
            response = await self._request(
                sender,
                "POST",
                "/webhooks/gateway/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(self._without_token(str(exc))) from exc
        messages = [
            Reply(text=str(m.get("text") or ""), buttons=buttons_from(m.get("buttons")))
            for m in body.get("messages", [])
            if m.get("text") or m.get("buttons")
        ]
        intent = body.get("intent") or {}
        failed = tuple(str(name) for name in body.get("failed_actions") or [])
        return RasaReply(
            messages=messages, intent=intent.get("name"), confidence=intent.get("confidence"), failed_actions=failed
        )

    async def _alive(self, url: str) -> tuple[bool, str]:
        try:
            response = await self.http.get(url, timeout=self.health_timeout)
        except httpx.HTTPError as exc:
            return False, type(exc).__name__
        return response.status_code == 200, f"HTTP {response.status_code}"

    async def _instance_status(self, url: str) -> InstanceStatus:
        """Up only when a model is loaded (GET /status needs --enable-api)."""
        try:
            response = await self.http.get(f"{url}/status", params=self.auth_params, timeout=self.health_timeout)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            if isinstance(exc, NOT_SENT):
                self._down_since[url] = time.monotonic()
            return InstanceStatus(_public(url), False, type(exc).__name__)
        if response.status_code != 200:
            return InstanceStatus(_public(url), False, f"HTTP {response.status_code}")
        self._down_since.pop(url, None)
        model = body.get("model_file")
        return InstanceStatus(_public(url), bool(model), str(model or "no model loaded"))

    async def instance_statuses(self) -> list[InstanceStatus]:
        """Every instance, probed concurrently, in ring order."""
        return list(await asyncio.gather(*(self._instance_status(url) for url in self.instances)))

    async def rasa_status(self) -> tuple[bool, str]:
        """Every instance together (see `summarize`)."""
        return summarize(await self.instance_statuses())

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
        return await self._tracker_events(sender, "POST", {"event": "pause" if paused else "resume"})

    async def reset_tracker(self, *, sender: str) -> bool:
        """Empty the conversation's tracker in Rasa's memory (GDPR erasure); False when Rasa could
        not be reached. An SQL tracker store ignores this (it only appends): see tracker_store."""
        return await self._tracker_events(sender, "PUT", [])

    async def prefill(self, *, sender: str, slots: dict[str, str]) -> bool:
        """Set slots on a conversation before its first turn (a first-contact link fills in the
        case reference; the date of birth is still asked); False when Rasa could not be reached.

        The events start the session themselves (what action_session_start returns): posted to a
        new tracker without them, Rasa runs action_session_start with no output channel, which
        fails and loses its events, and the first turn then falls back. The AI disclosure that
        action would say is the caller's to show (the web chat's link greeting)."""
        started = [{"event": "session_started"}, {"event": "action", "name": "action_listen"}]
        filled = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        return await self._tracker_events(sender, "POST", [*started, *filled])

    async def forget_verification(self, *, sender: str) -> bool:
        """Set Rasa's `verified` slot back to false (a lapsed web chat verification); False when
        Rasa could not be reached (the actions still refuse: the conversation has no debtor)."""
        return await self._tracker_events(sender, "POST", {"event": "slot", "name": "verified", "value": False})

    async def _tracker_events(self, sender: str, method: str, events: Any) -> bool:
        """Post (or with PUT, replace) events on a conversation's tracker; False when Rasa could not
        be reached or refused them."""
        try:
            response = await self._request(
                sender,
                method,
                f"/conversations/{sender}/tracker/events",
                params={"include_events": "NONE"},
                json=events,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200
