"""What a person's message becomes for Rasa: words, never a command.

Rasa reads any message starting with "/" (after stripping whitespace) as an intent with entities,
bypassing NLU: `/restart` wipes the tracker (and with it `verified`), `/session_start` starts over,
`/inform{"reference": ...}` sets slots. A button's payload is such a message, so one is let through
only when it is exactly a payload offered in the conversation's last bot turn (stored per
conversation, every channel, replaced each turn); on channels that show buttons as numbered
options a bare "2" picks the second option. Anything else typed with a leading "/" goes to Rasa
without its slashes, as words for NLU to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.database import READ_ONLY
from engine.conversations import service as conversations_service
from locales.reply import Reply

COMMAND_PREFIX = "/"  # rasa.shared.constants.INTENT_MESSAGE_PREFIX
# Channels whose buttons may be shown as numbered options the person answers with a digit
# (Telegram falls back to them when a payload does not fit its callback data).
NUMBERED_OPTION_CHANNELS = frozenset({"sms", "whatsapp", "telegram"})


def offered(replies: Sequence[Reply]) -> list[list[str]] | None:
    """The payloads a turn offered, one list per message with buttons (for the conversation's
    `offered_options`); None when the turn offered none."""
    groups = [[b.payload for b in reply.buttons if b.payload] for reply in replies]
    return [group for group in groups if group] or None


def _groups(stored: Any) -> list[list[str]]:
    """Stored options: a list of lists (one per message), or the older flat list (one message)."""
    if not isinstance(stored, list) or not stored:
        return []
    if all(isinstance(item, str) for item in stored):
        return [list(stored)]
    return [[str(p) for p in group] for group in stored if isinstance(group, list)]


def as_words(text: str) -> str:
    """The text without the leading slashes (and spaces) that would make Rasa read a command."""
    stripped = text.strip()
    while stripped.startswith(COMMAND_PREFIX):
        stripped = stripped[len(COMMAND_PREFIX) :].strip()
    return stripped if stripped != text.strip() else text


def for_rasa(text: str, *, channel: str, stored_options: Any) -> str:
    """The message to send Rasa: an offered button's payload as is, a numbered option's payload
    for a bare digit, and anything else as plain words."""
    groups = _groups(stored_options)
    chosen = text.strip()
    if any(chosen in group for group in groups):
        return chosen
    if channel in NUMBERED_OPTION_CHANNELS and chosen.isdigit() and groups:
        options = groups[-1]  # the numbers the person sees are those of the last message with buttons
        index = int(chosen) - 1
        if 0 <= index < len(options):
            return options[index]
    return as_words(text)


async def text_for_rasa(
    *, sessionmaker: async_sessionmaker[AsyncSession], conversation_id: str, text: str, channel: str
) -> str:
    """`for_rasa` against the options the conversation's last bot turn offered."""
    if not text.strip() or (not text.strip().startswith(COMMAND_PREFIX) and not text.strip().isdigit()):
        return text  # neither a payload nor a numbered option: nothing to look up
    async with sessionmaker() as session:
        await session.connection(execution_options=READ_ONLY)  # a read: no write lock on SQLite
        conversation = await conversations_service.get(session=session, conversation_id=conversation_id)
        stored = conversation.offered_options if conversation else None
    return for_rasa(text, channel=channel, stored_options=stored)
