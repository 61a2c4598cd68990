"""Typed slash commands never reach Rasa as commands; a button payload does only when that button
was offered in the conversation's last bot turn (every channel), a digit on SMS picks an option.
The pipeline runs for real on SQLite and PostgreSQL with Rasa faked at the HTTP edge."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GatewaySettings
from engine.conversations import commands
from engine.conversations.models import Conversation
from engine.conversations.pipeline import Pipeline
from engine.conversations.rasa_client import RasaClient
from engine.language.detector import LanguageDetector
from locales import Catalog
from locales.reply import Reply, buttons_from

RASA, ACTIONS = "http://rasa.test", "http://actions.test"
GREET = [{"title": "What do I owe?", "payload": "/check_balance"}, {"title": "A person", "payload": "/request_human"}]
PAY = [{"title": "All", "payload": '/pay_now{"debt_ref": "all"}'}]


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("/restart", "restart"),
        ("  //session_start", "session_start"),
        ("/ /restart", "restart"),
        (
            '/inform{"reference": "UK-300552", "dob": "1992-07-21"}',
            'inform{"reference": "UK-300552", "dob": "1992-07-21"}',
        ),
        ("/verify_identity@1.0", "verify_identity@1.0"),
        ("hello / there", "hello / there"),
        ("how much do I owe?", "how much do I owe?"),
    ],
)
def test_typed_commands_become_words(typed: str, sent: str) -> None:
    assert commands.for_rasa(typed, channel="webchat", stored_options=None) == sent
    assert commands.for_rasa(typed, channel="webchat", stored_options=[[b["payload"] for b in GREET]]) == sent


def test_only_offered_payloads_and_numbered_options_pass() -> None:
    stored = commands.offered(
        [
            Reply(text="hi", buttons=buttons_from(GREET)),
            Reply(text="or pay", buttons=buttons_from(PAY)),
            Reply(text="x"),
        ]
    )
    assert stored == [["/check_balance", "/request_human"], ['/pay_now{"debt_ref": "all"}']]
    assert commands.for_rasa(" /request_human ", channel="webchat", stored_options=stored) == "/request_human"
    assert commands.for_rasa('/pay_now{"debt_ref": "all"}', channel="telegram", stored_options=stored) == (
        '/pay_now{"debt_ref": "all"}'
    )
    # A payload that was not offered, even a real one with made-up entities, is words.
    forged = '/pay_now{"debt_ref": "NT-7781203"}'
    assert commands.for_rasa(forged, channel="webchat", stored_options=stored) == forged[1:]
    # Numbers pick from the last message with buttons, on channels that number them.
    assert commands.for_rasa("1", channel="sms", stored_options=stored) == '/pay_now{"debt_ref": "all"}'
    assert commands.for_rasa("2", channel="whatsapp", stored_options=stored) == "2"  # no second option
    assert commands.for_rasa("1", channel="webchat", stored_options=stored) == "1"
    # Options stored before this change (a flat list, SMS only) still work.
    assert commands.for_rasa("2", channel="sms", stored_options=["/affirm", "/deny"]) == "/deny"
    assert commands.offered([Reply(text="no buttons")]) is None


@dataclass
class ScriptedRasa:
    """Rasa's webhook answering each turn with the next scripted buttons; what it was sent is kept."""

    turns: list[list[dict[str, str]]] = field(default_factory=list)
    received: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "actions.test":
            return httpx.Response(200, json={"status": "ok"})
        body = json.loads(request.content)
        self.received.append(body["message"])
        buttons = self.turns.pop(0) if self.turns else []
        message: dict[str, Any] = {"text": "Reply from the assistant", "buttons": buttons}
        return httpx.Response(200, json={"messages": [message], "intent": {"name": "greet", "confidence": 0.9}})


@pytest.fixture
async def scripted(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[tuple[Pipeline, ScriptedRasa]]:
    fake = ScriptedRasa()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        pipeline = Pipeline(
            sessionmaker=sessionmaker,
            rasa=RasaClient(rasa_url=RASA, action_server_url=ACTIONS, http=http, timeout=5, health_timeout=1),
            catalog=Catalog(),
            detector=LanguageDetector(),
            settings=GatewaySettings(database_url="sqlite://", rasa_url=RASA, action_server_url=ACTIONS),
        )
        yield pipeline, fake


async def _offered(session: AsyncSession, channel: str, address: str) -> Any:
    conversation = await session.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.external_id == address)
    )
    assert conversation is not None
    await session.refresh(conversation)
    return conversation.offered_options


async def test_web_chat_buttons_pass_only_in_the_turn_after_they_were_offered(
    scripted: tuple[Pipeline, ScriptedRasa], session: AsyncSession
) -> None:
    pipeline, rasa = scripted
    rasa.turns = [GREET, [], []]
    chat = "cmd-web-1"
    await pipeline.handle(channel="webchat", external_id=chat, text="/restart")
    assert await _offered(session, "webchat", chat) == [["/check_balance", "/request_human"]]
    await pipeline.handle(channel="webchat", external_id=chat, text="/check_balance")  # the button pressed
    assert await _offered(session, "webchat", chat) is None  # replaced by the turn's (no buttons)
    await pipeline.handle(channel="webchat", external_id=chat, text="/check_balance")  # pressed again, too late
    assert rasa.received == ["restart", "/check_balance", "check_balance"]


async def test_sms_digits_and_telegram_callbacks(
    scripted: tuple[Pipeline, ScriptedRasa], session: AsyncSession
) -> None:
    pipeline, rasa = scripted
    rasa.turns = [GREET, PAY, GREET, GREET, []]
    await pipeline.handle(channel="sms", external_id="+46700111222", text="hi")
    await pipeline.handle(channel="sms", external_id="+46700111222", text="1")  # "1) What do I owe?"
    await pipeline.handle(channel="telegram", external_id="4711", text="hello")
    await pipeline.handle(channel="telegram", external_id="4711", text='/pay_now{"debt_ref": "all"}')  # not offered
    assert rasa.received == ["hi", "/check_balance", "hello", 'pay_now{"debt_ref": "all"}']
    await pipeline.handle(channel="telegram", external_id="4711", text="/request_human")
    assert rasa.received[-1] == "/request_human"  # offered again by the turn before
    assert await _offered(session, "sms", "+46700111222") == [['/pay_now{"debt_ref": "all"}']]
