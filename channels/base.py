"""The shape every channel adapter produces and consumes, like Rasa's Input/OutputChannel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InboundMessage:
    """One message from a debtor, normalised whatever the channel."""

    channel: str
    sender: str
    text: str
    received_at: datetime
    provider_message_id: str | None = None
    locale_hint: str | None = None
