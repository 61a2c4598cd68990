"""The load: simulated debtors in a closed loop (each of `concurrency` workers holds one
conversation at a time and sends its next message as soon as the reply arrives, no think time),
and, on the side, provider webhooks at a fixed rate whose acknowledgement time is measured."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from app.tools.bench.conversations import Checker, Script
from app.tools.bench.processes import Targets
from tests.fakes.telegram_server import text_update
from tests.fakes.twilio_server import inbound_form, signed


class Target(Protocol):
    @property
    def name(self) -> str: ...

    async def send(self, client: httpx.AsyncClient, *, session_id: str, text: str, locale: str) -> list[dict]: ...


@dataclass(frozen=True)
class Gateway:
    """The full stack: the web chat REST endpoint, with the locale hint the chat page sends."""

    url: str
    name: str = "full"
    # The conversation's label -> the session the gateway issued for it (rotated ids followed).
    issued: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    async def send(self, client: httpx.AsyncClient, *, session_id: str, text: str, locale: str) -> list[dict]:
        if session_id not in self.issued:  # like the chat page: a session first
            created = await client.post(f"{self.url}/webchat/sessions")
            created.raise_for_status()
            self.issued[session_id] = created.json()["session_id"]
        response = await client.post(
            f"{self.url}/webchat/messages",
            json={"session_id": self.issued[session_id], "text": text, "locale": locale},
        )
        response.raise_for_status()
        body = response.json()
        if rotated := body.get("session_id"):
            self.issued[session_id] = rotated
        return list(body["messages"])


@dataclass(frozen=True)
class BareRasa:
    """Rasa's own REST channel; the client says the locale (metadata) since nobody detects it."""

    url: str
    name: str = "bare_rasa"
    token: str | None = None  # RASA_AUTH_TOKEN: the stack's REST channel wants it (stock Rasa ignores it)

    async def send(self, client: httpx.AsyncClient, *, session_id: str, text: str, locale: str) -> list[dict]:
        response = await client.post(
            f"{self.url}/webhooks/rest/webhook",
            params={"token": self.token} if self.token else None,
            json={"sender": session_id, "message": text, "metadata": {"locale": locale, "channel": "webchat"}},
        )
        response.raise_for_status()
        return list(response.json())


@dataclass
class PhaseResult:
    name: str
    conversations: int
    latencies: list[float] = field(default_factory=list)  # seconds, turns answered as expected
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0


async def _conversation(
    client: httpx.AsyncClient, target: Target, script: Script, checker: Checker, result: PhaseResult, prefix: str
) -> None:
    session_id = f"{prefix}-{uuid.uuid4().hex[:16]}"
    for index, turn in enumerate(script.turns):
        began = time.perf_counter()
        try:
            messages = await target.send(client, session_id=session_id, text=turn.text, locale=script.locale)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            result.errors.append(f"{script.name} turn {index + 1}: {type(exc).__name__}: {exc}"[:300])
            return
        elapsed = time.perf_counter() - began
        problem = checker.problem(turn, script.locale, messages)
        if problem is not None:
            result.errors.append(f"{script.name} turn {index + 1} ({turn.text!r}): {problem}"[:300])
            return  # the rest of the script would not make sense
        result.latencies.append(elapsed)


async def run_conversations(
    target: Target,
    scripts: Sequence[Script],
    *,
    concurrency: int,
    checker: Checker,
    turn_timeout: float = 60.0,
    prefix: str = "bench",
) -> PhaseResult:
    """Every script once, `concurrency` at a time; a failed turn ends its conversation."""
    result = PhaseResult(name=target.name, conversations=len(scripts))
    queue: asyncio.Queue[Script] = asyncio.Queue()
    for script in scripts:
        queue.put_nowait(script)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            await _conversation(client, target, queue.get_nowait(), checker, result, prefix)

    async with httpx.AsyncClient(timeout=turn_timeout, limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(max(1, concurrency))))
        result.duration = time.perf_counter() - began
    return result


@dataclass
class WebhookResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"twilio_sms": [], "telegram": []})
    # The gateway's own time for the durable inbox write (its Server-Timing header), per request:
    # the rest of an acknowledgement is waiting for the event loop and the network.
    stored: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def server_timing(header: str | None, name: str) -> float | None:
    """Seconds for metric `name` in a Server-Timing header ("inbox;dur=12.5" is milliseconds)."""
    for metric in (header or "").split(","):
        parts = [p.strip() for p in metric.split(";")]
        if parts[0] == name:
            for part in parts[1:]:
                if part.startswith("dur="):
                    try:
                        return float(part[4:]) / 1000
                    except ValueError:
                        return None
    return None


class WebhookProbe:
    """Twilio-signed SMS and Telegram updates (with the secret header) sent to the gateway at
    `rate` per second in total, alternating, open loop (a slow acknowledgement does not slow the
    rate), from a few senders that keep writing. Only the acknowledgement is timed: the inbox
    worker answers them through Rasa afterwards, which is part of the load on the full stack."""

    def __init__(self, targets: Targets, *, rate: float, senders: int = 10, timeout: float = 30.0) -> None:
        if targets.twilio_auth_token is None or targets.telegram_secret is None:
            raise ValueError("webhooks need the stack's Twilio auth token and Telegram secret")
        self.targets, self.rate, self.timeout = targets, rate, timeout
        run = uuid.uuid4().int
        self.numbers = [f"+4479{(run + i) % 10**8:08d}" for i in range(senders)]
        self.chats = [800_000_000 + (run + i) % 100_000_000 for i in range(senders)]
        self.update_ids = itertools.count(run % 10**9)
        self.result = WebhookResult()

    def _request(self, n: int) -> tuple[str, str, dict[str, Any]]:
        gateway = self.targets.gateway_url
        if n % 2 == 0:
            url = f"{gateway}/channels/twilio/sms"
            form = inbound_form(
                channel="sms", from_=self.numbers[n // 2 % len(self.numbers)], to=self.targets.sms_number, body="hello"
            )
            params, signature = signed(url, form, str(self.targets.twilio_auth_token))
            return "twilio_sms", url, {"data": params, "headers": {"X-Twilio-Signature": signature}}
        chat = self.chats[n // 2 % len(self.chats)]
        update = text_update(next(self.update_ids), chat, "hello", language_code="en")
        headers = {"X-Telegram-Bot-Api-Secret-Token": str(self.targets.telegram_secret)}
        return "telegram", f"{gateway}/channels/telegram/webhook", {"json": update, "headers": headers}

    async def _send(self, client: httpx.AsyncClient, n: int) -> None:
        kind, url, request = self._request(n)
        began = time.perf_counter()
        try:
            response = await client.post(url, **request)
        except httpx.HTTPError as exc:
            self.result.errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
            return
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            self.result.errors.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
            return
        self.result.latencies[kind].append(elapsed)
        if (timing := server_timing(response.headers.get("server-timing"), "inbox")) is not None:
            self.result.stored.append(timing)

    async def run(self, stop: asyncio.Event) -> WebhookResult:
        """Until `stop` is set; waits for the requests in flight."""
        pending: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            began = time.perf_counter()
            for n in itertools.count():
                due = began + n / self.rate
                try:
                    await asyncio.wait_for(stop.wait(), timeout=max(0.0, due - time.perf_counter()))
                    break
                except TimeoutError:
                    pass
                task = asyncio.create_task(self._send(client, n))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.gather(*pending)
        return self.result
