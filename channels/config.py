"""Channel settings (Twilio, Telegram, the inbox queue), shared by gateway and worker settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends
from pydantic import Field, SecretStr

from core.config import PublicAddress
from core.deps import settings_of
from core.profile import redis_url_problem

ROOT = Path(__file__).resolve().parent.parent


class ChannelSettings(PublicAddress):
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
    # Web chat sessions (channels/sessions.py): an issued id expires after this many idle minutes
    # and at the latest this many hours after it was issued; verification in a web chat lapses
    # after WEBCHAT_VERIFIED_IDLE_MINUTES without a message from the person.
    webchat_session_idle_minutes: float = Field(default=60.0, gt=0)
    webchat_session_max_hours: float = Field(default=24.0, gt=0)
    webchat_verified_idle_minutes: float = Field(default=15.0, gt=0)

    def channel_problems(self) -> list[str]:
        """Production: every provider complete or off, the inbox queue in Redis (core/profile.py)."""
        problems = []
        twilio = {
            "TWILIO_ACCOUNT_SID": bool(self.twilio_account_sid),
            "TWILIO_AUTH_TOKEN": bool(self.twilio_auth_token),
            "TWILIO_SMS_FROM or TWILIO_WHATSAPP_FROM": bool(self.twilio_sms_from or self.twilio_whatsapp_from),
        }
        if any(twilio.values()) and not all(twilio.values()):
            missing = ", ".join(name for name, present in twilio.items() if not present)
            problems.append(f"Twilio is half-configured: {missing} missing (set all three, or none)")
        if bool(self.telegram_bot_token) != bool(self.telegram_webhook_secret):
            problems.append(
                "Telegram is half-configured: set both TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET, or neither"
            )
        problems += redis_url_problem(
            "HUEY_REDIS_URL", self.huey_redis_url, "the inbox queue must be shared by the gateway and the worker"
        )
        if self.huey_immediate:
            problems.append("HUEY_IMMEDIATE is on: inbox tasks would run inside the gateway (tests only)")
        return problems


def channel_settings(settings: object) -> ChannelSettings:
    """The channels' part of a process's settings (the gateway's compose every feature's)."""
    if not isinstance(settings, ChannelSettings):
        raise TypeError("these settings have no channel part")
    return settings


ChannelSettingsDep = Annotated[ChannelSettings, Depends(settings_of(ChannelSettings))]
