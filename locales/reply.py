"""The one shape of something the assistant says, from Rasa to every channel: text and buttons
(title, payload), plus what the pipeline keeps about it (its transcript row, the intent it asks).

Defined at the bottom (locales/ renders it, and imports nothing of ours) so that the Rasa client,
the pipeline, the catalog, the channel adapters and the web chat's response all share it. Wire
formats (Rasa's NLG JSON, the web chat's REST models, Telegram keyboards) are made from it at the
edge, with `wire()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def wire(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


def buttons_from(raw: Iterable[Mapping[str, Any]] | None) -> tuple[Button, ...]:
    """Buttons from JSON (Rasa's answer, a YAML text): `{"title", "payload"}` each."""
    return tuple(Button(title=str(b.get("title", "")), payload=str(b.get("payload", ""))) for b in raw or ())


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    message_id: int | None = None  # the transcript row, once stored
    intent: str | None = None  # stored on the transcript row (engine/conversations/welfare.py: a question asked)

    def wire(self) -> dict[str, Any]:
        """`{"text", "buttons": [{"title", "payload"}]}`: what Rasa's NLG and the web chat send."""
        return {"text": self.text, "buttons": [b.wire() for b in self.buttons]}
