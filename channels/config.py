"""Channel settings (Twilio, Telegram, the inbox queue), shared by gateway and worker settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parent.parent


class ChannelSettings(BaseSettings):
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_sms_from: str | None = None  # E.164 number or Messaging Service sender
    twilio_whatsapp_from: str | None = None  # E.164 number enabled for WhatsApp
    twilio_api_base: str | None = None  # a proxy/edge, or a fake Twilio on loopback in tests
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_base_url: str | None = None  # tests: a fake Bot API on loopback
    # Queue behind the inbox: Redis in production, an SQLite file by default (embedded).
    huey_redis_url: str | None = None
    huey_file: Path = ROOT / "var" / "huey.db"
    huey_immediate: bool = False  # run tasks in-process (tests)
    inbox_max_backoff_seconds: float = 300.0
    # Web chat sessions (channels/sessions.py): an issued id expires after this many idle minutes
    # and at the latest this many hours after it was issued; verification in a web chat lapses
    # after WEBCHAT_VERIFIED_IDLE_MINUTES without a message from the person.
    webchat_session_idle_minutes: float = Field(default=60.0, gt=0)
    webchat_session_max_hours: float = Field(default=24.0, gt=0)
    webchat_verified_idle_minutes: float = Field(default=15.0, gt=0)
