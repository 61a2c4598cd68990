"""Simulated debtors on the durable provider channels for the crash check (crash.py).

Each debtor follows one of the benchmark's scripts (tools/bench/conversations.py) on Twilio SMS,
Twilio WhatsApp or Telegram: it sends a message through the signed webhook, waits until a reply
reaches its phone (the fake Twilio or Telegram API the stack sends to) or `turn_timeout` passes,
then sends the next. Many debtors run at once. Replies are collected by one poller (`Mailbox`)
per recipient, with the time they arrived; "replies are delayed" notices are told apart, as they
answer no message in particular.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.tools.bench.conversations import Script, plain
from locales import Catalog
from tests.fakes.telegram_server import FakeTelegram, text_update
from tests.fakes.twilio_server import FakeTwilio, inbound_form, signed

CHANNELS = ("sms", "whatsapp", "telegram")
# SMS/WhatsApp numbers in the script's country: the gateway guesses the language from them.
CALLING_CODES = {"en": "44", "sv": "46", "de": "49", "pt-BR": "55"}
TELEGRAM_LANGUAGES = {"en": "en", "sv": "sv", "de": "de", "pt-BR": "pt-br"}
NOTICE_KEY = "utter_replies_delayed"
SETTLE_SECONDS = 0.4


@dataclass(frozen=True)
class Received:
    text: str
    payloads: tuple[str, ...]
    at: float  # time.monotonic() when the poller saw it


@dataclass
class Sent:
    provider_id: str  # Twilio MessageSid or Telegram update_id: how the inbox knows the message
    text: str
    at: float
    acknowledged: bool
    error: str | None = None
    first_reply_s: float | None = None  # seen by the debtor (live), not the accounting


@dataclass
class Debtor:
    index: int
    channel: str
    address: str  # E.164 number (SMS, WhatsApp) or chat id (Telegram): the conversation's external id
    script: Script
    sent: list[Sent] = field(default_factory=list)

    @property
    def recipient(self) -> str:
        """The `to` the fake API records for replies to this debtor."""
        return f"whatsapp:{self.address}" if self.channel == "whatsapp" else self.address


def make_debtors(scripts: list[Script], *, rng: random.Random) -> list[Debtor]:
    """One debtor per script, channels in turn, addresses unique to this run."""
    base = rng.randrange(10**7, 9 * 10**7)
    debtors = []
    for index, script in enumerate(scripts):
        channel = CHANNELS[index % len(CHANNELS)]
        if channel == "telegram":
            address = str(900_000_000 + base + index)
        else:
            address = f"+{CALLING_CODES[script.locale]}7{base + index:08d}"
        debtors.append(Debtor(index=index, channel=channel, address=address, script=script))
    return debtors


class Notices:
    """Recognises the "replies are delayed" notice in any locale and tone."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        catalog = catalog or Catalog()
        prefixes = set()
        for locale in CALLING_CODES:
            for tone in catalog.variants(NOTICE_KEY, locale):
                prefix = plain(catalog.default_text(NOTICE_KEY, locale, tone)).split("{")[0].strip()
                if prefix:
                    prefixes.add(prefix)
        self.prefixes = tuple(sorted(prefixes))

    def __call__(self, text: str) -> bool:
        return plain(text).startswith(self.prefixes)


class Mailbox:
    """What the fakes received, per recipient, in order; one poller reads both fakes."""

    def __init__(self, twilio: FakeTwilio, telegram: FakeTelegram, notices: Notices) -> None:
        self.twilio, self.telegram, self.notices = twilio, telegram, notices
        self._twilio_seen, self._telegram_seen = len(twilio.messages), len(telegram.sent)
        self.by_recipient: dict[str, list[Received]] = {}
        self._answers: dict[str, list[Received]] = {}
        self.last_at = time.monotonic()

    def collect(self) -> None:
        now = time.monotonic()
        for message in self.twilio.messages[self._twilio_seen :]:
            self._add(message.to, Received(message.body or "", (), now))
            self._twilio_seen += 1
        for sent in self.telegram.sent[self._telegram_seen :]:
            rows = (sent.reply_markup or {}).get("inline_keyboard") or []
            payloads = tuple(str(b.get("callback_data", "")) for row in rows for b in row)
            self._add(str(sent.chat_id), Received(sent.text, payloads, now))
            self._telegram_seen += 1

    def _add(self, recipient: str, received: Received) -> None:
        self.by_recipient.setdefault(recipient, []).append(received)
        if not self.notices(received.text):
            self._answers.setdefault(recipient, []).append(received)
        self.last_at = received.at

    def replies(self, recipient: str) -> list[Received]:
        """Everything sent to `recipient` but the delay notices."""
        return list(self._answers.get(recipient, []))

    def answer_count(self, recipient: str) -> int:
        return len(self._answers.get(recipient, ()))

    async def run(self, stop: asyncio.Event, interval: float = 0.1) -> None:
        while not stop.is_set():
            self.collect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
        self.collect()


@dataclass
class Webhooks:
    """Inbound messages the way Twilio and Telegram deliver them to the gateway (signed)."""

    gateway_url: str
    twilio_auth_token: str
    telegram_secret: str
    sms_number: str
    whatsapp_number: str
    update_ids: itertools.count = field(default_factory=lambda: itertools.count(random.randrange(10**8, 9 * 10**8)))

    def request(self, debtor: Debtor, text: str) -> tuple[str, str, dict[str, Any]]:
        """(provider id, URL, httpx keyword arguments) for one message of `debtor`."""
        if debtor.channel == "telegram":
            update_id = next(self.update_ids)
            language = TELEGRAM_LANGUAGES[debtor.script.locale]
            update = text_update(update_id, int(debtor.address), text, language_code=language)
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.telegram_secret}
            return str(update_id), f"{self.gateway_url}/channels/telegram/webhook", {"json": update, "headers": headers}
        url = f"{self.gateway_url}/channels/twilio/{debtor.channel}"
        to = self.whatsapp_number if debtor.channel == "whatsapp" else self.sms_number
        form = inbound_form(channel=debtor.channel, from_=debtor.address, to=to, body=text)
        params, signature = signed(url, form, self.twilio_auth_token)
        return form["MessageSid"], url, {"data": params, "headers": {"X-Twilio-Signature": signature}}

    async def send(self, client: httpx.AsyncClient, debtor: Debtor, text: str) -> Sent:
        provider_id, url, request = self.request(debtor, text)
        began = time.monotonic()
        try:
            response = await client.post(url, **request)
        except httpx.HTTPError as exc:
            return Sent(provider_id, text, began, acknowledged=False, error=f"{type(exc).__name__}: {exc}"[:200])
        if response.status_code != 200:
            return Sent(provider_id, text, began, acknowledged=False, error=f"HTTP {response.status_code}")
        return Sent(provider_id, text, began, acknowledged=True)


async def converse(
    debtor: Debtor, *, client: httpx.AsyncClient, webhooks: Webhooks, mailbox: Mailbox, turn_timeout: float
) -> None:
    """The debtor's script, one message at a time: the next once a reply arrived (or timed out)."""
    for turn in debtor.script.turns:
        before = mailbox.answer_count(debtor.recipient)
        sent = await webhooks.send(client, debtor, turn.text)
        debtor.sent.append(sent)
        if not sent.acknowledged:
            continue  # a provider would retry; counted apart by the accounting
        deadline = sent.at + turn_timeout
        while time.monotonic() < deadline:
            if mailbox.answer_count(debtor.recipient) > before:
                sent.first_reply_s = round(mailbox.replies(debtor.recipient)[before].at - sent.at, 2)
                await _settled(mailbox, debtor.recipient)
                break
            await asyncio.sleep(0.1)


async def _settled(mailbox: Mailbox, recipient: str, quiet: float = SETTLE_SECONDS) -> None:
    """Until no further part of the answer arrives for `quiet` seconds (a turn's replies are sent
    back to back), so the next message does not count the rest of this answer as its own."""
    count = -1
    while (now := len(mailbox.by_recipient.get(recipient, []))) != count:
        count = now
        await asyncio.sleep(quiet)
