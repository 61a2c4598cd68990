"""Secrets from the environment or from files, never from code, and never shown.

Every setting is read, first found wins, from: arguments, the environment (`TWILIO_AUTH_TOKEN`),
a file named by `<NAME>_FILE` (`TWILIO_AUTH_TOKEN_FILE=/run/secrets/twilio`: Docker, Kubernetes,
systemd credentials), `.env`, then a file named like the setting in SECRETS_DIR (default
/run/secrets, only read when it exists). Setting both `NAME` and `NAME_FILE` is an error: which
one is meant would be a guess.

Secret values are pydantic SecretStr (shown as `**********`); passwords inside URL settings
(DATABASE_URL, HUEY_REDIS_URL, RATE_LIMIT_STORAGE_URL...) are masked in repr, str and dumps too,
so logging a settings object can never leak one. Libraries do not know that: python-telegram-bot
logs its API URL (with the bot token) at DEBUG, httpx every URL it calls. So every secret value a
settings object holds is also remembered here, and `SecretsFilter` (on the log handler, see
app/logging.py) masks it wherever it appears in a log line.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from pydantic import SecretStr, SerializerFunctionWrapHandler, model_serializer
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SecretsSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

FILE_SUFFIX = "_FILE"
MASK = "[secret]"
MIN_SECRET_CHARS = 8  # shorter values would mask ordinary words; no real secret is that short
MAX_REMEMBERED = 256
_PLAIN_ATTRIBUTES = frozenset({"msg", "name", "levelname", "pathname", "filename", "module", "funcName"})
DEFAULT_SECRETS_DIR = "/run/secrets"
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<password>[^@/\s]+)@", re.I)


def mask_url(value: str) -> str:
    """`postgresql://user:secret@host/db` -> `postgresql://user:***@host/db`."""
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", value)


_secrets: dict[str, None] = {}  # insertion-ordered set, longest masked first
_secrets_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    if value and len(value) >= MIN_SECRET_CHARS:
        with _secrets_lock:
            _secrets[value] = None
            while len(_secrets) > MAX_REMEMBERED:
                del _secrets[next(iter(_secrets))]


def mask_secrets(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class SecretsFilter(logging.Filter):
    """Masks remembered secret values in a record already flattened by app/logging.py's
    RedactingFilter (message, extra fields, exception and stack text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        record.msg, record.args = mask_secrets(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for key, value in list(vars(record).items()):
            if key not in _PLAIN_ATTRIBUTES and isinstance(value, str | dict | list | tuple):
                setattr(record, key, _masked_value(value))
        return True


def _masked_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: _masked_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked_value(item) for item in value]
    return value


def _environment(dotenv: PydanticBaseSettingsSource) -> dict[str, str]:
    """os.environ over .env, keys lower-cased (pydantic-settings' default is case-insensitive)."""
    values = {str(k).lower(): str(v) for k, v in (getattr(dotenv, "env_vars", None) or {}).items() if v is not None}
    values.update({k.lower(): v for k, v in os.environ.items()})
    return values


class FileVariablesSource(PydanticBaseSettingsSource):
    """`<NAME>_FILE=/path`: the setting's value is the file's content (trailing newline dropped)."""

    def __init__(self, settings_cls: type[BaseSettings], dotenv: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.dotenv = dotenv

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is done in __call__

    def __call__(self) -> dict[str, Any]:
        environment = _environment(self.dotenv)
        found: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            path = environment.get(f"{name}{FILE_SUFFIX}".lower())
            if not path:
                continue
            if name.lower() in environment:
                raise SettingsError(f"{name.upper()} and {name.upper()}{FILE_SUFFIX} are both set: keep one")
            try:
                found[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise SettingsError(f"{name.upper()}{FILE_SUFFIX}: cannot read {path}: {exc.strerror}") from exc
        return found


class SecretSources(BaseSettings):
    """Mixin for every process's settings class (the sources, and masking on output)."""

    # A refused value is not echoed in the error either (it may be a secret, or hold a password).
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings, FileVariablesSource(settings_cls, dotenv_settings), dotenv_settings]
        secrets_dir = Path(_environment(dotenv_settings).get("secrets_dir") or DEFAULT_SECRETS_DIR)
        if secrets_dir.is_dir():
            sources.append(SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir))
        return tuple(sources)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        for value in self.__dict__.values():
            if isinstance(value, SecretStr):
                remember_secret(value.get_secret_value())
            elif isinstance(value, str) and (match := _URL_PASSWORD.search(value)):
                remember_secret(match["password"])

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def _masked(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            return {k: mask_url(v) if isinstance(v, str) else v for k, v in data.items()}
        return data
