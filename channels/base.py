"""The small interface every channel adapter shares, like Rasa's InputChannel/OutputChannel.

Inbound: a provider request becomes one `InboundMessage`. Outbound: `send` takes one `Reply`
(locales/reply.py), the shape Rasa's answer already has, whose buttons each adapter renders the
way its channel can: quick replies, inline keyboards, or numbered options in plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from channels.text import sanitize
from core.pii.cards import MARKER, redact_card_numbers
from locales.reply import Button as Button  # the reply and its buttons, one type everywhere
from locales.reply import Reply as Reply


@dataclass(frozen=True)
class InboundMessage:
    """One message from a debtor, normalised whatever the channel. Its text is sanitised and its
    card numbers redacted here, on construction: the one place, before anything (the inbox, the
    transcript, a log line, Rasa) can see the message."""

    channel: str  # "webchat", "sms", "whatsapp", "telegram"
    sender: str  # the address on that channel: session id, E.164 phone number, Telegram chat id
    text: str
    received_at: datetime
    provider_message_id: str | None = None  # Twilio MessageSid, Telegram update_id: retries repeat it
    locale_hint: str | None = None

    def __post_init__(self) -> None:
        clean, _ = redact_card_numbers(sanitize(self.text))
        object.__setattr__(self, "text", clean)

    @property
    def cards_found(self) -> bool:
        """Whether the person wrote a card number (now the marker): they are warned not to."""
        return MARKER in self.text


@dataclass(frozen=True)
class Delivery:
    """What the provider said when we handed it a message."""

    provider_message_id: str | None
    status: str = "sent"  # sent | queued | failed
    error: str | None = None


@dataclass(frozen=True)
class OutboundContext:
    """What an adapter may need beyond the text: the conversation's locale, and for WhatsApp
    when the person last wrote (the 24-hour customer-service window)."""

    locale: str
    last_inbound_at: datetime | None = None
    template_variables: dict[str, str] = field(default_factory=dict)


class OutputChannel(Protocol):
    name: str

    async def send(self, *, to: str, reply: Reply, context: OutboundContext) -> list[Delivery]:
        """Send one reply (split if the channel needs it); buttons fall back to text. The reply
        arrives whole, as Rasa and the catalog made it, so no caller can drop its buttons on the
        way and every adapter renders the same thing."""
        ...


def numbered_options(text: str, buttons: Sequence[Button]) -> str:
    """Plain-text fallback for buttons: "1) …" lines the person can answer with a digit."""
    if not buttons:
        return text
    lines = [f"{i}) {b.title}" for i, b in enumerate(buttons, start=1)]
    return text + "\n" + "\n".join(lines)
