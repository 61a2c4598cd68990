"""Telegram: a bot on the Bot API, through python-telegram-bot (PTB) and nothing hand-rolled.

Inbound, production (webhook)::

    if not secret_ok(request.headers.get(SECRET_HEADER), settings.telegram_webhook_secret):
        return 401                                   # not Telegram
    inbound = parse(body, bot=output.bot, received_at=utcnow())
    if (query_id := callback_query_id(body)) is not None:
        await output.answer_callback(query_id)       # stops the spinner on the pressed button
    if inbound is not None:                          # None: sticker, edit, join, ... -> ack, ignore
        ...pipeline...
    return 200                                       # anything else makes Telegram retry

The update's ``update_id`` becomes ``provider_message_id``: Telegram re-delivers an update until
the webhook answers 2xx, with the same id, so the caller can drop repeats.

Inbound, local development (no public URL): ``run_polling`` pulls the same updates with
``getUpdates`` through PTB's ``Application`` and hands each one, converted the same way, to a
callback.

Outbound: ``TelegramOutput.send`` sends a ``Reply``'s text as plain text (no parse mode, so
``_``, ``*`` or ``<`` in a reply can never break a message), splits texts over Telegram's
4096-character limit and renders its buttons as an inline keyboard whose ``callback_data`` is
the button payload; a press comes back as a ``callback_query`` whose data ``parse`` turns into
the message text.

Only private chats are accepted: a debt is nobody else's business, so a bot added to a group or
channel never answers there (``parse`` returns ``None`` for those chats).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

from channels.base import Button, Delivery, InboundMessage, OutboundContext, numbered_options
from channels.text import split_text as shared_split_text
from channels.text import units
from locales.reply import Reply

__all__ = [
    "CHANNEL",
    "DEFAULT_BASE_URL",
    "MAX_CALLBACK_DATA",
    "MAX_TEXT",
    "SECRET_HEADER",
    "TelegramOutput",
    "callback_query_id",
    "inbound_from_update",
    "parse",
    "render",
    "run_polling",
    "secret_ok",
    "split_text",
]

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"  # PTB appends the token
MAX_TEXT = 4096  # sendMessage text limit, counted here in UTF-16 code units (an emoji counts 2)
MAX_CALLBACK_DATA = 64  # bytes, UTF-8
ALLOWED_UPDATES = ["message", "callback_query"]  # all that parse() turns into messages


# --- Inbound -------------------------------------------------------------------------------------


def secret_ok(header_value: str | None, expected: str) -> bool:
    """Whether the ``X-Telegram-Bot-Api-Secret-Token`` header carries our webhook secret.

    Constant-time; a missing header, or no secret configured, is never a match."""
    if not header_value or not expected:
        return False
    return hmac.compare_digest(header_value.encode("utf-8"), expected.encode("utf-8"))


def parse(update: Mapping[str, Any], *, bot: Bot, received_at: datetime) -> InboundMessage | None:
    """A webhook body (one Update as JSON) as an ``InboundMessage``, or ``None`` to acknowledge
    and ignore it: only a new text message or a button press in a private chat is a message."""
    try:
        parsed = Update.de_json(dict(update), bot)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        log.warning("telegram: unreadable update ignored: %s", exc)
        return None
    return inbound_from_update(parsed, received_at=received_at)


def inbound_from_update(update: Update, *, received_at: datetime) -> InboundMessage | None:
    """The conversion behind ``parse``, for an ``Update`` PTB has already built (polling)."""
    message = update.message  # a new message: edits, channel posts and business messages are other fields
    if message is not None:
        if message.chat.type != ChatType.PRIVATE or not message.text:
            return None  # group/channel, sticker, photo, join, location, ...
        user = message.from_user
        return InboundMessage(
            channel=CHANNEL,
            sender=str(message.chat.id),
            text=message.text,
            received_at=received_at,
            provider_message_id=str(update.update_id),
            locale_hint=user.language_code if user else None,
        )
    query = update.callback_query
    if query is not None:
        data = query.data
        origin = query.message  # None when the button sat on an inline-mode message
        if not isinstance(data, str) or not data or origin is None or origin.chat.type != ChatType.PRIVATE:
            return None
        return InboundMessage(
            channel=CHANNEL,
            sender=str(origin.chat.id),
            text=data,
            received_at=received_at,
            provider_message_id=str(update.update_id),
            locale_hint=query.from_user.language_code,
        )
    return None


def callback_query_id(update: Mapping[str, Any] | Update) -> str | None:
    """The id to pass to ``answerCallbackQuery`` when the update is a button press."""
    if isinstance(update, Update):
        return update.callback_query.id if update.callback_query is not None else None
    query = update.get("callback_query")
    if isinstance(query, Mapping) and query.get("id") is not None:
        return str(query["id"])
    return None


# --- Outbound ------------------------------------------------------------------------------------


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Telegram's 4096-unit limit, with the shared splitting rules (channels/text.py)."""
    if units(text) <= limit:
        return [text]  # fits: sent exactly as written
    return shared_split_text(text, limit)


def _fits_callback_data(payload: str) -> bool:
    return 1 <= len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA


def render(text: str, buttons: Sequence[Button] | None) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text to send and the inline keyboard (one button a row) for ``buttons``.

    A payload that cannot be ``callback_data`` (empty or over 64 bytes) turns all the buttons
    into numbered options in the text, so the person never sees half a keyboard."""
    if not buttons:
        return text, None
    if not all(_fits_callback_data(b.payload) for b in buttons):
        return numbered_options(text, buttons), None
    keyboard = [[InlineKeyboardButton(b.title, callback_data=b.payload)] for b in buttons]
    return text, InlineKeyboardMarkup(keyboard)


def _failed(exc: TelegramError) -> Delivery:
    """``Forbidden: bot was blocked by the user``, ``BadRequest: message is too long``, ..."""
    kind = type(exc).__name__
    error = exc.message if exc.message.startswith(f"{kind}: ") else f"{kind}: {exc.message}"
    return Delivery(provider_message_id=None, status="failed", error=error)


class TelegramOutput:
    """``OutputChannel`` for Telegram, wrapping one PTB ``Bot``.

    ``base_url`` is the Bot API endpoint without the token (PTB appends it): Telegram's by
    default, a fake's ``f"{fake.url}/bot"`` in tests. The bot is initialised (``getMe``) on the
    first send, not at construction, so building the adapter needs no network; call ``aclose``
    (or use ``async with``) to release its HTTP connections."""

    name = CHANNEL

    def __init__(self, token: str, *, base_url: str | None = None, bot: Bot | None = None) -> None:
        self.bot: Bot = bot if bot is not None else Bot(token, base_url=base_url or DEFAULT_BASE_URL)
        self._initialized = False
        self._init_lock = asyncio.Lock()

    async def __aenter__(self) -> TelegramOutput:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _ready(self) -> Bot:
        if not self._initialized:
            async with self._init_lock:
                if not self._initialized:
                    await self.bot.initialize()
                    self._initialized = True
        return self.bot

    async def aclose(self) -> None:
        """Close the bot's HTTP clients (also after a failed initialisation); a later send
        initialises it again."""
        self._initialized = False
        await self.bot.shutdown()  # a no-op when nothing was opened

    async def send(self, *, to: str, reply: Reply, context: OutboundContext) -> list[Delivery]:
        """Send ``reply`` to chat ``to``: one ``Delivery`` per Telegram message, in order.

        Buttons go on the last part. A Telegram error (the person blocked the bot, flood
        control, network) ends the sending with a ``failed`` Delivery instead of raising; the
        parts after it are not sent, as they would make no sense without it."""
        body, markup = render(reply.text, reply.buttons)
        try:
            bot = await self._ready()
        except TelegramError as exc:
            log.warning("telegram: bot could not be initialised: %s", exc)
            return [_failed(exc)]
        parts = split_text(body)
        deliveries: list[Delivery] = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            try:
                message = await bot.send_message(chat_id=to, text=part, reply_markup=markup if last else None)
            except TelegramError as exc:
                log.warning("telegram: sendMessage to %s failed: %s", to, exc)
                deliveries.append(_failed(exc))
                break
            deliveries.append(Delivery(provider_message_id=str(message.message_id)))
        return deliveries

    async def answer_callback(self, callback_query_id: str, text: str | None = None) -> bool:
        """Acknowledge a button press (Telegram shows a spinner until then). Never raises: a
        query older than Telegram's answer window is rejected and that is harmless."""
        try:
            bot = await self._ready()
            return await bot.answer_callback_query(callback_query_id, text=text)
        except TelegramError as exc:
            log.info("telegram: answerCallbackQuery %s failed: %s", callback_query_id, exc)
            return False


# --- Polling (local development) -----------------------------------------------------------------


async def run_polling(
    *,
    token: str,
    base_url: str | None,
    on_message: Callable[[InboundMessage, str | None], Awaitable[None]],
    stop: asyncio.Event,
    poll_timeout: int = 10,
) -> None:
    """Receive updates with ``getUpdates`` until ``stop`` is set, for a bot without a webhook.

    Built on PTB's ``Application``: its updater deletes any webhook first (keeping pending
    updates), long-polls with ``poll_timeout`` seconds, and on stop confirms what it fetched so
    nothing is delivered twice. Each update ``parse`` would accept is passed to
    ``on_message(inbound, callback_query_id)``, one at a time in arrival order; the callback
    answers the callback query itself (e.g. ``TelegramOutput.answer_callback``). An exception
    from ``on_message`` is logged and polling goes on."""
    builder = ApplicationBuilder().token(token)
    if base_url is not None:
        builder = builder.base_url(base_url)
    application = builder.build()

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inbound = inbound_from_update(update, received_at=datetime.now(UTC))
        query_id = callback_query_id(update)
        if inbound is None:
            if query_id is not None:  # a press we cannot use: still stop the button's spinner
                with contextlib.suppress(TelegramError):
                    await context.bot.answer_callback_query(query_id)
            return
        await on_message(inbound, query_id)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handling an update failed", exc_info=context.error)

    application.add_handler(TypeHandler(Update, handle))
    application.add_error_handler(on_error)
    updater = application.updater
    if updater is None:  # ApplicationBuilder always builds one unless told not to
        raise RuntimeError("the PTB application has no updater")
    async with application, contextlib.AsyncExitStack() as stack:  # initialize(); shutdown() even if that failed
        await application.start()
        stack.push_async_callback(application.stop)
        await updater.start_polling(
            timeout=timedelta(seconds=poll_timeout), drop_pending_updates=False, allowed_updates=ALLOWED_UPDATES
        )
        stack.push_async_callback(updater.stop)
        log.info("telegram: polling for updates")
        await stop.wait()
    log.info("telegram: polling stopped")
