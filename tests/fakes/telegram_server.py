"""A fake Telegram Bot API on loopback, for tests that drive the real python-telegram-bot (PTB).

Like ``stripe_server.FakeStripe`` the fake sits at the network edge only: a real HTTP server on
``127.0.0.1`` that PTB reaches through its own seam, ``Bot(token, base_url=fake.base_url)``
(``fake.base_url`` is ``f"{fake.url}/bot"``; PTB appends the token). Nothing in PTB is patched,
so request encoding, timeouts, error mapping (``Forbidden``, ``BadRequest``, ``RetryAfter``...) and
the polling loop are PTB's.

Usage::

    with FakeTelegram() as fake:
        output = TelegramOutput(fake.token, base_url=fake.base_url)
        await output.send(to="4711", reply=Reply("Hej", buttons), context=...)
        fake.sent[-1].reply_markup        # {"inline_keyboard": [[{"text": ..., "callback_data": ...}]]}
        fake.fail_next_send()             # the next sendMessage: 403 "Forbidden: bot was blocked by the user"
        fake.queue_update(text_update(1, 4711, "hej"))   # served by getUpdates

Served methods, ``/bot<token>/<method>`` by GET or POST (query string, form-urlencoded, multipart
or JSON body: PTB sends form data, JSON-encoding every non-string value): ``getMe``,
``sendMessage``, ``answerCallbackQuery``, ``getUpdates``, ``deleteWebhook``, ``setWebhook``,
``getWebhookInfo``, ``close``, ``logOut``. Another method is a 404 ``Not Found`` and another token
a 401 ``Unauthorized`` (PTB: ``InvalidToken``), as Telegram answers.

Like Telegram: ``sendMessage`` rejects an empty text, a text over 4096 UTF-16 code units and
``callback_data`` over 64 bytes (400); ``getUpdates`` confirms (forgets) updates below ``offset``,
long-polls for at most ``timeout`` seconds (capped by ``long_poll_cap``, so a test never waits
long), remembers ``allowed_updates`` and skips the other kinds, and is a 409 ``Conflict`` while a
webhook is set. Differences: message ids count per chat from 1; any ``callback_query_id`` is
answered; ``parse_mode`` and entities are recorded but not parsed. Connections are HTTP/1.0 and
closed after each request, so nothing pooled outlives the test's event loop.
Over 400 lines on purpose: one fake of one provider API (sending, updates, polling, errors) reads best whole.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.loopback import LoopbackFake, Response

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "DEFAULT_TOKEN",
    "FakeTelegram",
    "RecordedRequest",
    "SentMessage",
    "callback_update",
    "edited_message_update",
    "sticker_update",
    "text_update",
]

BOT_ID = 7000000001
BOT_USERNAME = "fake_collector_bot"
DEFAULT_TOKEN = f"{BOT_ID}:AAH-fake-telegram-token_for-tests-01"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)  # what Telegram sends when allowed_updates was never set: all but chat_member and reactions
_query_ids = itertools.count(4_000_000_000_000_000_000)


# --- Building updates ----------------------------------------------------------------------------


def _user(user_id: int, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Test", "last_name": "Debtor"}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "Collector", "username": BOT_USERNAME}


def _chat(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
    if chat_type == "private":
        return {"id": chat_id, "first_name": "Test", "last_name": "Debtor", "type": "private"}
    return {"id": chat_id, "title": "Test group", "type": chat_type}


def _message(update_id: int, chat_id: int, language_code: str | None, chat_type: str) -> dict[str, Any]:
    sender = chat_id if chat_type == "private" else 1000 + update_id
    return {
        "message_id": update_id,
        "from": _user(sender, language_code),
        "chat": _chat(chat_id, chat_type),
        "date": int(time.time()),
    }


def text_update(
    update_id: int, chat_id: int, text: str, language_code: str | None = "sv", *, chat_type: str = "private"
) -> dict[str, Any]:
    """A new text message, as Telegram sends it (``chat_type="group"`` for a group chat)."""
    return {"update_id": update_id, "message": {**_message(update_id, chat_id, language_code, chat_type), "text": text}}


def callback_update(
    update_id: int, chat_id: int, data: str, *, language_code: str | None = "sv", message_id: int = 1
) -> dict[str, Any]:
    """A press on an inline-keyboard button (``data`` = its ``callback_data``) under the bot's
    message ``message_id`` in a private chat."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(next(_query_ids)),
            "from": _user(chat_id, language_code),
            "message": {
                "message_id": message_id,
                "from": _bot_user(),
                "chat": _chat(chat_id),
                "date": int(time.time()),
                "text": "Choose:",
                "reply_markup": {"inline_keyboard": [[{"text": data, "callback_data": data}]]},
            },
            "chat_instance": str(-8_000_000_000_000_000_000 + chat_id),
            "data": data,
        },
    }


def sticker_update(update_id: int, chat_id: int) -> dict[str, Any]:
    """A sticker and nothing else: a message without text."""
    sticker = {
        "file_id": "CAACAgIAAxkBAAIBQ2Zs",
        "file_unique_id": "AgADQwEAAk",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
    return {"update_id": update_id, "message": {**_message(update_id, chat_id, "sv", "private"), "sticker": sticker}}


def edited_message_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """The person edited an earlier message."""
    message = {**_message(update_id, chat_id, "sv", "private"), "text": text, "edit_date": int(time.time())}
    return {"update_id": update_id, "edited_message": message}


# --- Records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str  # Bot API method as called, e.g. "sendMessage"
    params: dict[str, Any]  # decoded: JSON-encoded form values are parsed back
    content_type: str
    http_method: str


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    message_id: int
    params: dict[str, Any] = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


# --- Decoding parameters -------------------------------------------------------------------------

_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters"}


def _decode_body(raw: bytes, content_type: str) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if not raw:
        return {}
    if kind == "application/json":
        try:
            value = json.loads(raw)
        except ValueError:
            raise _bad("can't parse JSON object") from None
        if not isinstance(value, dict):
            raise _bad("can't parse JSON object")
        return value
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            params[name] = payload if part.get_filename() else payload.decode("utf-8")
        return params
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _normalise(params: dict[str, Any]) -> dict[str, Any]:
    """Form values arrive as strings, JSON-encoded where they are not strings (PTB's
    ``json_parameters``): parse back the object-valued fields."""
    out = dict(params)
    for name in _JSON_FIELDS & out.keys():
        if isinstance(out[name], str):
            try:
                out[name] = json.loads(out[name])
            except ValueError:
                raise _bad(f"can't parse {name} JSON object") from None
    return out


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"invalid {name} specified") from None


def _bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- The server ----------------------------------------------------------------------------------


_Method = Callable[[dict[str, Any]], Any]


class FakeTelegram(LoopbackFake):
    """The Bot API for one bot on ``127.0.0.1`` with a free port, served from a background thread.

    State the test can read once a call has returned: ``sent`` (every accepted ``sendMessage`` as
    a ``SentMessage``), ``answered`` (``answerCallbackQuery`` parameters), ``requests`` (every
    ``RecordedRequest``, rejected ones included), ``pending_updates`` (queued, not yet confirmed),
    ``webhook_url`` and ``webhook_secret``."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", long_poll_cap: float = 0.5) -> None:
        self.token = token
        super().__init__(host)
        self.long_poll_cap = long_poll_cap
        self.sent: list[SentMessage] = []
        self.answered: list[dict[str, Any]] = []
        self.requests: list[RecordedRequest] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.blocked_chats: set[int] = set()
        self._updates: list[dict[str, Any]] = []
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED
        self._send_failures: list[_ApiError] = []
        self._message_ids: dict[int, int] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closing = False
        self._methods: dict[str, _Method] = {
            "getme": lambda params: (
                _bot_user()
                | {"can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
            ),
            "sendmessage": self._send_message,
            "answercallbackquery": self._answer_callback_query,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": lambda params: True,
            "logout": lambda params: True,
        }

    @property
    def base_url(self) -> str:
        """The value for PTB's ``base_url``: ``f"{url}/bot"`` (PTB appends the token)."""
        return f"{self.url}/bot"

    # -- test controls --

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for ``getUpdates`` (an ``update_id`` is assigned if it has none)."""
        with self._lock:
            if "update_id" not in update:
                last = max((u["update_id"] for u in self._updates), default=0)
                update = {"update_id": last + 1, **update}
            self._updates.append(update)
            self._updates.sort(key=lambda u: u["update_id"])
            self._changed.notify_all()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._updates)

    def fail_next_send(
        self,
        error_code: int = 403,
        description: str = "Forbidden: bot was blocked by the user",
        *,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``sendMessage`` (each call queues one more) with this error, e.g.
        ``fail_next_send(429, "Too Many Requests: retry after 5", retry_after=5)``."""
        with self._lock:
            self._send_failures.append(_ApiError(error_code, description, retry_after=retry_after))

    def block_chat(self, chat_id: int) -> None:
        """The person blocked the bot: every ``sendMessage`` to them is a 403 from now on."""
        with self._lock:
            self.blocked_chats.add(chat_id)

    # -- HTTP --

    def _starting(self) -> None:
        self._closing = False

    def _stopping(self) -> None:
        with self._lock:
            self._closing = True  # wake long polls
            self._changed.notify_all()

    def _handle(self, http_method: str, target: str, raw: bytes, headers: dict[str, str]) -> Response:
        content_type = headers.get("content-type", "")
        split = urlsplit(target)
        prefix, _, rest = split.path.partition("/bot")
        token, _, method = rest.partition("/")
        params: dict[str, Any] = {}
        try:
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            params.update(_decode_body(raw, content_type))
            params = _normalise(params)
        except _ApiError as error:
            return self._respond(error.code, error.body())
        finally:
            with self._lock:
                self.requests.append(RecordedRequest(method, params, content_type, http_method))
        if prefix or not token or token != self.token:
            return self._respond(401, _ApiError(401, "Unauthorized").body())
        route = self._methods.get(method.lower())
        if route is None:
            return self._respond(404, _ApiError(404, "Not Found").body())
        try:
            result = route(params)
        except _ApiError as error:
            return self._respond(error.code, error.body())
        return self._respond(200, {"ok": True, "result": result})

    @staticmethod
    def _respond(status: int, body: dict[str, Any]) -> Response:
        return Response(status, json.dumps(body, ensure_ascii=False).encode("utf-8"))

    # -- methods --

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        raw_chat = params.get("chat_id")
        if raw_chat in (None, ""):
            raise _bad("chat_id is empty")
        try:
            chat_id = int(raw_chat)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None  # "@username" is for channels; we have none
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        if _utf16_len(text) > MAX_TEXT:
            raise _bad("message is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            if not isinstance(markup, dict):
                raise _bad("can't parse reply keyboard markup JSON object")
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
                        raise _bad("BUTTON_DATA_INVALID")
        with self._lock:
            if self._send_failures:
                raise self._send_failures.pop(0)
            if chat_id in self.blocked_chats:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            message_id = self._message_ids.get(chat_id, 0) + 1
            self._message_ids[chat_id] = message_id
            chat_type = "private" if chat_id > 0 else "supergroup" if str(chat_id).startswith("-100") else "group"
            message: dict[str, Any] = {
                "message_id": message_id,
                "from": _bot_user(),
                "chat": _chat(chat_id, chat_type),
                "date": int(time.time()),
                "text": text,
            }
            if markup and markup.get("inline_keyboard"):
                message["reply_markup"] = markup  # only inline keyboards are echoed back on the message
            self.sent.append(SentMessage(chat_id, text, markup, message_id, params))
            self._changed.notify_all()
        return message

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise _bad("QUERY_ID_INVALID")
        with self._lock:
            self.answered.append(params)
        return True

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int(params, "offset", 0) or 0
        limit = min(max(_int(params, "limit", 100) or 100, 1), 100)
        timeout = max(_int(params, "timeout", 0) or 0, 0)
        deadline = time.monotonic() + min(timeout, self.long_poll_cap)
        with self._lock:
            if self.webhook_url:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                )
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED
            if offset < 0:  # the last -offset updates; all before them are forgotten
                self._updates = self._updates[offset:]
            while True:
                if offset > 0:  # confirms everything below it
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                # kinds the bot did not ask for are never delivered
                self._updates = [u for u in self._updates if self._kind(u) in self._allowed_updates]
                batch = self._updates
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._closing:
                    return batch[:limit]
                self._changed.wait(remaining)

    @staticmethod
    def _kind(update: dict[str, Any]) -> str:
        return next((key for key in update if key != "update_id"), "")

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook_url, self.webhook_secret = "", None
            if _bool(params, "drop_pending_updates"):
                self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url")
        if url is None:
            raise _bad("parameter 'url' is required")  # an empty url removes the webhook
        if url and not str(url).startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        with self._lock:
            self.webhook_url = str(url)
            self.webhook_secret = params.get("secret_token") or None
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED
            if _bool(params, "drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            info: dict[str, Any] = {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self.webhook_url:
                info["max_connections"] = 40
                info["allowed_updates"] = sorted(self._allowed_updates)
            return info
