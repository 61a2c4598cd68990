"""The gateway pipeline with Rasa and the action server faked at the HTTP edge (httpx.MockTransport)
and an SMS provider that records what it would send; database, language detection, signals and
texts are real. Used by the PII tests and the inbox drain tests."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import GatewaySettings
from app.manage import alembic_config
from channels.base import Delivery, InboundMessage, OutboundContext, Reply
from core.database import make_engine, make_sessionmaker, utcnow
from engine.conversations import service as conversations_service
from engine.conversations.models import Conversation
from engine.conversations.pipeline import Pipeline
from engine.conversations.rasa_client import RasaClient
from engine.inbox import service as inbox_service
from engine.inbox.models import InboundEvent
from engine.language.detector import LanguageDetector
from locales import Catalog

T = TypeVar("T")
RASA, ACTIONS = "http://rasa.test", "http://actions.test"
REPLY = "Quokka lantern reply from the assistant"
_WORD = re.compile(r"[^\W_]")
_senders = itertools.count(1)


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


@dataclass
class FakeRasa:
    """Rasa's gateway webhook and the action server's health: every request kept as sent."""

    requests: list[httpx.Request] = field(default_factory=list)
    rasa_up: bool = True
    actions_up: bool = True
    # The next turn: these custom actions fail in Rasa (it still answers `REPLY`); `die` also
    # takes the action server down during that turn (after the gateway's cached probe said up).
    failing_actions: list[str] = field(default_factory=list)
    die: bool = False
    # The next turns' understanding: (intent, reply texts) each, used up in order (then `REPLY`).
    turns: list[tuple[str, list[str]]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "actions.test":
            return httpx.Response(200 if self.actions_up else 503, json={"status": "ok"})
        if not self.rasa_up:
            return httpx.Response(500, text="internal error")
        if request.url.path == "/webhooks/gateway/webhook":
            name, texts = self.turns.pop(0) if self.turns else ("inform", [REPLY])
            intent = {"name": name, "confidence": 0.93}
            failed, self.failing_actions = self.failing_actions, []
            if self.die:
                self.actions_up, self.die = False, False
            messages = [{"text": text} for text in texts]
            return httpx.Response(200, json={"messages": messages, "intent": intent, "failed_actions": failed})
        return httpx.Response(200, json={})

    def webhook_bodies(self, since: int) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests[since:] if r.url.path == "/webhooks/gateway/webhook"]


@dataclass
class RecordingOutput:
    """The SMS provider: what would have been sent."""

    name: str = "sms"
    sent: list[str] = field(default_factory=list)
    crash: bool = False  # the worker dies while sending (the process is gone, nothing is recorded)

    async def send(self, *, to: str, reply: Reply, context: OutboundContext) -> list[Delivery]:
        if self.crash:
            raise SystemExit("worker killed while sending")
        self.sent.append(reply.text)
        return [Delivery(provider_message_id=f"SM{len(self.sent)}")]


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    pipeline: Pipeline
    rasa: FakeRasa
    engine: AsyncEngine
    http: httpx.AsyncClient

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    async def webchat_turn(self, text: str) -> list[str]:
        """A web chat message; the conversation's stored texts."""
        sender = f"pii-web-{next(_senders)}"
        await self.pipeline.handle(channel="webchat", external_id=sender, text=text)
        return await self.stored("webchat", sender)

    async def inbox_turn(self, text: str) -> list[str]:
        """An SMS accepted into the inbox, then drained by the worker's code; the stored texts
        (inbound event rows and transcript rows)."""
        sender = f"+46709{next(_senders):06d}"
        inbound = InboundMessage(
            channel="sms", sender=sender, text=text, received_at=utcnow(), provider_message_id=f"SM-in-{sender}"
        )
        async with self.pipeline.sessionmaker() as session:
            event = await inbox_service.accept(session=session, message=inbound)
            await session.commit()
        assert event is not None
        await inbox_service.drain(pipeline=self.pipeline, conversation_id=event.conversation_id)
        return await self.stored("sms", sender)

    async def stored(self, channel: str, sender: str) -> list[str]:
        async with self.pipeline.sessionmaker() as session:
            conversation = await session.scalar(
                select(Conversation).where(Conversation.channel == channel, Conversation.external_id == sender)
            )
            assert conversation is not None
            events = await session.scalars(
                select(InboundEvent.text).where(InboundEvent.conversation_id == conversation.id)
            )
            messages = await conversations_service.transcript(session=session, conversation_id=conversation.id)
            return [*events.all(), *(m.text for m in messages)]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('pii')) / 'pii.db'}"
    config = alembic_config(url)
    config.attributes["skip_logging"] = True  # alembic.ini's fileConfig would disable our loggers
    command.upgrade(config, "head")
    loop = asyncio.new_event_loop()
    fake = FakeRasa()
    engine = make_engine(url)
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    settings_ = GatewaySettings(database_url=url, rasa_url=RASA, action_server_url=ACTIONS)
    pipeline = Pipeline(
        sessionmaker=make_sessionmaker(engine),
        rasa=RasaClient(rasa_url=RASA, action_server_url=ACTIONS, http=http, timeout=5, health_timeout=1),
        catalog=Catalog(),
        detector=LanguageDetector(),
        settings=settings_,
        outputs={"sms": RecordingOutput()},
    )
    yield Harness(loop=loop, pipeline=pipeline, rasa=fake, engine=engine, http=http)
    loop.run_until_complete(http.aclose())
    loop.run_until_complete(engine.dispose())
    loop.close()
