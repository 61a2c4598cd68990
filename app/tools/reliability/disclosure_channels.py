"""Talking to the real stack the way people do: web chat through its REST endpoint, SMS and
WhatsApp through Twilio's signed webhook, Telegram through its secret-token webhook; replies of
provider channels are read where they land (the loopback fakes of Twilio and Telegram).

A provider turn is over when the gateway's inbox has processed the inbound event (its replies
are sent before the event is marked done); one watcher polls the database for all paths.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.tools.reliability.disclosure_detector import Reply
from channels import sessions
from engine.conversations.models import Conversation, Direction, Message
from engine.inbox.models import InboundEvent, InboxStatus
from people.identity.models import VerificationAttempt
from tests.fakes.telegram_server import FakeTelegram, callback_update, text_update
from tests.fakes.twilio_server import FakeTwilio, inbound_form, signed
from tests.stack import Stack, fake_provider_env, work_folder

log = logging.getLogger(__name__)
TELEGRAM_SECRET = "disclosure-telegram-secret"
SMS_NUMBER, WHATSAPP_NUMBER = "+46700000010", "+46700000011"
TURN_TIMEOUT = 180.0  # the inbox re-queues a failed task within a minute (its sweep)
RETRIES = 3  # deliveries of one message before its turn counts as lost


@dataclass(frozen=True)
class Site:
    """A running stack and the fakes its provider channels send to."""

    gateway_url: str
    database_url: str
    twilio: FakeTwilio
    telegram: FakeTelegram
    telegram_secret: str = TELEGRAM_SECRET
    sms_number: str = SMS_NUMBER
    whatsapp_number: str = WHATSAPP_NUMBER


class FuzzStack(Stack):
    """tests/stack.py's processes, with the inbox worker as docker-compose.yml runs it (8 threads
    rather than the Procfile's 4): provider turns otherwise queue behind four at a time."""

    worker_threads = 8

    def command(self, name: str) -> list[str]:
        command = super().command(name)
        if name == "worker":
            command[command.index("-w") + 1] = str(self.worker_threads)
        return command


@contextmanager
def started(*, workdir: Path | None = None, fakes: tuple[FakeTwilio, FakeTelegram] | None = None) -> Iterator[Site]:
    """Rasa, action server, gateway and inbox worker on a fresh SQLite database (tests/stack.py),
    Twilio and Telegram faked on loopback; everything stopped on exit."""
    with work_folder(workdir, prefix="disclosure-") as where, _fakes(fakes) as (twilio, telegram):
        stack = FuzzStack(
            workdir=where,
            database_url=f"sqlite+aiosqlite:///{where / 'disclosure.db'}",
            extra_env={
                **fake_provider_env(
                    twilio,
                    telegram,
                    telegram_secret=TELEGRAM_SECRET,
                    sms_from=SMS_NUMBER,
                    whatsapp_from=WHATSAPP_NUMBER,
                ),
                "INBOX_MAX_BACKOFF_SECONDS": "3",
                "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            },
        )
        try:
            stack.up()
            yield Site(gateway_url=stack.gateway_url, database_url=stack.database_url, twilio=twilio, telegram=telegram)
        finally:
            stack.down()


@contextmanager
def _fakes(fakes: tuple[FakeTwilio, FakeTelegram] | None) -> Iterator[tuple[FakeTwilio, FakeTelegram]]:
    if fakes is not None:
        yield fakes
        return
    with FakeTwilio() as twilio, FakeTelegram() as telegram:
        yield twilio, telegram


@dataclass
class Chat:
    """One path's conversation: where it is addressed and how many replies were read so far."""

    channel: str
    address: str  # web chat: the conversation key behind the session, once the gateway issued one
    locale: str
    seen: int = 0
    session_id: str | None = None  # web chat: the id the gateway issued (rotations followed)


class Watcher:
    """Resolves "this inbound event is processed" for every waiting path, one query per tick;
    the answer is who the conversation is verified as at that moment."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float = 0.2) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self._waiting: dict[tuple[str, str], asyncio.Future[int | None]] = {}

    async def done(self, channel: str, message_id: str) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting[(channel, message_id)] = future
        try:
            async with asyncio.timeout(TURN_TIMEOUT):
                return await future
        finally:
            self._waiting.pop((channel, message_id), None)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self._waiting:
                continue
            ids = [message_id for _, message_id in self._waiting]
            query = (
                select(InboundEvent.channel, InboundEvent.provider_message_id, Conversation.debtor_id)
                .join(Conversation, Conversation.id == InboundEvent.conversation_id)
                .where(InboundEvent.status == InboxStatus.DONE, InboundEvent.provider_message_id.in_(ids))
            )
            try:
                async with self.sessionmaker() as session:
                    rows = (await session.execute(query)).all()
            except SQLAlchemyError as exc:  # SQLite busy under load: next tick
                log.warning("disclosure.watch_failed: %s", exc)
                continue
            for channel, message_id, debtor_id in rows:
                future = self._waiting.get((channel, message_id))
                if future is not None and not future.done():
                    future.set_result(debtor_id)


@dataclass
class Driver:
    site: Site
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    watcher: Watcher
    _updates: Iterator[int] = field(default_factory=lambda: itertools.count(int.from_bytes(os.urandom(3)) * 64))
    _twilio_read: int = 0
    _telegram_read: int = 0
    _inbox: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)
    server_errors: int = 0  # 5xx answers, then delivered again
    dropped: int = 0  # connections dropped, then delivered again

    def __post_init__(self) -> None:
        # Only what is sent from now on: a site may have served earlier runs.
        self._twilio_read, self._telegram_read = len(self.site.twilio.messages), len(self.site.telegram.sent)

    def _drain(self) -> None:
        """Move what the fakes received since last time into per-address lists (in order)."""
        twilio = self.site.twilio.messages[self._twilio_read :]
        self._twilio_read += len(twilio)
        for sent in twilio:
            channel, _, number = sent.to.rpartition(":")
            variables = tuple((sent.content_variables or {}).values())
            key = ("whatsapp" if channel else "sms", number)
            self._inbox.setdefault(key, []).append(Reply(text=sent.body or "", buttons=variables))
        telegram = self.site.telegram.sent[self._telegram_read :]
        self._telegram_read += len(telegram)
        for message in telegram:
            rows = (message.reply_markup or {}).get("inline_keyboard") or []
            buttons = tuple(str(b.get(k, "")) for row in rows for b in row for k in ("text", "callback_data"))
            self._inbox.setdefault(("telegram", str(message.chat_id)), []).append(Reply(message.text, buttons))

    async def turn(self, conversation: Chat, text: str, *, button: bool = False) -> tuple[list[Reply], int | None]:
        """Send one message; the replies it got and the debtor the conversation is verified as."""
        if conversation.channel == "webchat":
            return await self._webchat(conversation, text)
        if conversation.channel == "telegram":
            update_id = next(self._updates)
            chat = int(conversation.address)
            language = {"pt-BR": "pt-br"}.get(conversation.locale, conversation.locale)
            update = (
                callback_update(update_id, chat, text, language_code=language)
                if button
                else text_update(update_id, chat, text, language_code=language)
            )
            url = f"{self.site.gateway_url}/channels/telegram/webhook"
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.site.telegram_secret}
            response = await self._post(url, json=update, headers=headers)
            message_id = str(update_id)
        else:
            url = f"{self.site.gateway_url}/channels/twilio/{conversation.channel}"
            to = self.site.whatsapp_number if conversation.channel == "whatsapp" else self.site.sms_number
            form = inbound_form(channel=conversation.channel, from_=conversation.address, to=to, body=text)
            params, signature = signed(url, form, self.site.twilio.auth_token)
            response = await self._post(url, data=params, headers={"X-Twilio-Signature": signature})
            message_id = form["MessageSid"]
        response.raise_for_status()
        debtor_id = await self.watcher.done(conversation.channel, message_id)
        self._drain()
        received = self._inbox.get((conversation.channel, conversation.address), [])
        new, conversation.seen = received[conversation.seen :], len(received)
        return new, debtor_id

    async def _webchat(self, conversation: Chat, text: str) -> tuple[list[Reply], int | None]:
        if conversation.session_id is None:  # like the chat page: a session first
            created = await self._post(f"{self.site.gateway_url}/webchat/sessions")
            created.raise_for_status()
            conversation.session_id = str(created.json()["session_id"])
            async with self.sessionmaker() as session:
                key = await sessions.address_of(session=session, session_id=conversation.session_id)
            assert key is not None
            conversation.address = key
        body = {"session_id": conversation.session_id, "text": text, "locale": conversation.locale}
        response = await self._post(f"{self.site.gateway_url}/webchat/messages", json=body)
        response.raise_for_status()
        conversation.session_id = response.json().get("session_id") or conversation.session_id
        replies = [
            Reply(m["text"], tuple(str(b[k]) for b in m.get("buttons") or [] for k in ("title", "payload")))
            for m in response.json()["messages"]
        ]
        async with self.sessionmaker() as session:
            debtor_id = await session.scalar(
                select(Conversation.debtor_id).where(
                    Conversation.channel == "webchat", Conversation.external_id == conversation.address
                )
            )
        return replies, debtor_id

    async def _post(self, url: str, **kwargs: object) -> httpx.Response:
        """POST as a provider (or a person) would: a rate limit (429) is waited out, a server
        error or a dropped connection is delivered again (Twilio and Telegram re-deliver the same
        message id; the inbox drops repeats). Both are counted."""
        for attempt in range(1, 9):
            try:
                response = await self.client.post(url, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                if attempt >= RETRIES:
                    raise
                self.dropped += 1
                await asyncio.sleep(attempt)
                continue
            if response.status_code == 429:
                await asyncio.sleep(float(response.headers.get("Retry-After") or 0.5 * attempt))
            elif response.status_code >= 500 and attempt < RETRIES:
                self.server_errors += 1
                await asyncio.sleep(attempt)
            else:
                return response
        return response

    async def transcript(self, conversation: Chat) -> tuple[list[str], int | None, list[bool]]:
        """What the gateway stored as said to this person (pushes included), who they are, and
        their verification attempts in order (success or not)."""
        async with self.sessionmaker() as session:
            stored = await session.scalar(
                select(Conversation).where(
                    Conversation.channel == conversation.channel, Conversation.external_id == conversation.address
                )
            )
            if stored is None:
                return [], None, []
            texts = await session.scalars(
                select(Message.text)
                .where(Message.conversation_id == stored.id, Message.direction == Direction.OUTBOUND)
                .order_by(Message.id)
            )
            attempts = await session.scalars(
                select(VerificationAttempt.success)
                .where(VerificationAttempt.conversation_id == stored.id)
                .order_by(VerificationAttempt.created_at, VerificationAttempt.id)
            )
            return list(texts), stored.debtor_id, list(attempts)
