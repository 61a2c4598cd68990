"""Structured logs for every process we own (gateway, inbox worker, action server, CLIs), with
personal data masked before a line is written.

One JSON object per line on stderr (stdout stays for what CLIs print): `time` (UTC, ISO 8601),
`level`, `logger`, `message`, `service` when given, every `extra={...}` field, and `exc_info` /
`stack_info` when present. A standard-library formatter rather than python-json-logger: it is
a few dozen lines, adds no dependency to three processes, and it writes the exception text the
redaction filter already masked (python-json-logger formats `exc_info` again itself).

`RedactingFilter` sits on the handler and masks IBANs, card numbers and national ID numbers
(core/pii/redaction.py) in the message, its arguments, every extra field and the exception text.
It is the last line of defence: log calls must still carry ids, lengths and intents, never what a
debtor wrote or what we answered.

Settings from the environment, so processes without GatewaySettings (the action server) read the
same ones: LOG_LEVEL (default INFO) and LOG_FORMAT (`json`, default, or `text` for a terminal).
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from core.pii.redaction import redact_for_logs
from core.settings_sources import SecretsFilter

# Attributes every LogRecord has: anything else on a record came from `extra=`.
# (uvicorn adds `color_message`, the message again with terminal colours.)
RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}
# Servers' own loggers: their console handlers go, their records reach ours.
FRAMEWORK_LOGGERS = (
    "uvicorn", "uvicorn.error", "uvicorn.access",
    "sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets",
    "huey", "huey.consumer",
)  # fmt: skip
ACCESS_LOGGERS = frozenset({"uvicorn.access", "sanic.access"})
# Chatty at INFO (a line per HTTP call; httpx's carries the Telegram bot token in the URL).
QUIET_LOGGERS = ("httpx", "httpcore", "twilio.http_client")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_lock = threading.Lock()


def _redact(value: Any) -> Any:
    """Strings masked; containers walked; numbers kept unless one is itself a card or ID number;
    anything else becomes its masked text (its str() could hold anything)."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return redact_for_logs(value)
    if isinstance(value, int):
        text = str(value)
        masked = redact_for_logs(text)
        return value if masked == text else masked
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(item) for item in value]
    return redact_for_logs(str(value))


class RedactingFilter(logging.Filter):
    """Masks personal data in place, so every later handler sees the masked record too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, masked
            message = " ".join(str(part) for part in (record.msg, *(record.args or ())))
        record.msg, record.args = redact_for_logs(message), None
        if isinstance(getattr(record, "message", None), str):
            record.message = record.msg  # a handler before us already formatted it
        for key, value in list(vars(record).items()):
            if key not in RESERVED and not key.startswith("_"):
                setattr(record, key, _redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_for_logs(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_for_logs(record.stack_info)
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in RESERVED and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        for key, value in extra_fields(record).items():
            entry[f"extra_{key}" if key in entry else key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return jsonlib.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the time (test runners and daemons replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _console(handler: logging.Handler) -> bool:
    """A plain handler writing to the terminal (basicConfig's, coloredlogs', uvicorn's, huey's)."""
    consoles = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and any(handler.stream is console for console in consoles)
    )


def _drop_console_handlers(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if isinstance(handler, StderrHandler) or _console(handler):
            logger.removeHandler(handler)


def build_handler(*, json: bool = True, service: str | None = None, stream: TextIO | None = None) -> logging.Handler:
    """The handler configure_logging installs: to stderr, or to `stream` (tests read it back)."""
    handler: logging.Handler = StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service) if json else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter())
    handler.addFilter(SecretsFilter())  # settings' secret values (bot tokens in library URLs...)
    return handler


def configure_logging(
    *,
    level: int | str | None = None,
    json: bool | None = None,
    service: str | None = None,
    framework_loggers: Iterable[str] = FRAMEWORK_LOGGERS,
) -> logging.Handler:
    """One redacting handler on the root logger, replacing console handlers (idempotent: a
    second call replaces the first one's handler). Handlers that are not the console's (a
    test runner's, a log file) are left alone. Returns the handler."""
    chosen = level if level is not None else os.environ.get("LOG_LEVEL") or "INFO"
    numeric = chosen if isinstance(chosen, int) else logging.getLevelName(str(chosen).upper())
    if not isinstance(numeric, int):
        raise ValueError(f"LOG_LEVEL: unknown level {chosen!r}")
    as_json = json if json is not None else os.environ.get("LOG_FORMAT", "json").strip().lower() != "text"
    handler = build_handler(json=as_json, service=service)
    with _lock:
        root = logging.getLogger()
        _drop_console_handlers(root)
        root.addHandler(handler)
        root.setLevel(numeric)
        for name in framework_loggers:
            framework = logging.getLogger(name)
            silenced = not framework.handlers and not framework.propagate
            _drop_console_handlers(framework)
            # An access log switched off (uvicorn --no-access-log) stays off.
            framework.propagate = not (silenced and name in ACCESS_LOGGERS)
        for name in QUIET_LOGGERS:  # unless the operator asked for everything
            logging.getLogger(name).setLevel(logging.NOTSET if numeric <= logging.DEBUG else logging.WARNING)
    return handler


def configured() -> bool:
    """Whether configure_logging ran in this process (then nothing should replace its handler)."""
    return any(isinstance(h, StderrHandler) for h in logging.getLogger().handlers)
