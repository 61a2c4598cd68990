"""The settings every test stack (tests/stack.py) starts its processes with, and those that point
its provider SDKs at the loopback fakes (tests/fakes/)."""

from __future__ import annotations

from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio

# Test and benchmark stacks send from 127.0.0.1 as fast as they can (20 concurrent web chat
# conversations, 1000-webhook replay storms, forgery sweeps): limits no run reaches, still enforced
# (engine/abuse/config.py; /tmp/notes/limits.md). `extra_env` may set lower ones to test a limit.
STACK_RATE_LIMITS = {
    "RATE_LIMIT_WEBCHAT_SESSION": "100000/minute",
    "RATE_LIMIT_WEBCHAT_IP": "1000000/minute",
    "RATE_LIMIT_WEBCHAT_CONNECT_IP": "100000/minute",
    "RATE_LIMIT_WEBCHAT_SESSIONS_IP": "100000/minute",
    "RATE_LIMIT_SENDER": "100000/minute",
    "RATE_LIMIT_WEBHOOK_FAILURES_IP": "1000000/minute",
    "RATE_LIMIT_LOGIN_IP": "100000/minute",
    "LOGIN_USERNAME_MAX_FAILURES": "1000",
}

# The payments sandbox is opt-in (payments/config.py): test stacks turn it on; extra_env may turn it off.
SANDBOX_ON = {"PAYMENTS_SANDBOX": "true"}

# The numbers a test stack's SMS and WhatsApp messages come from (and are addressed to).
SMS_NUMBER, WHATSAPP_NUMBER = "+46700000000", "+46700000001"

REDIS = "redis://127.0.0.1:6379"  # the machine's (and CI's) Redis; each stack option names its db


def twilio_env(
    twilio: FakeTwilio, *, sms_from: str = SMS_NUMBER, whatsapp_from: str = WHATSAPP_NUMBER
) -> dict[str, str]:
    """The settings that point a stack's Twilio SDK client at the loopback fake."""
    return {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_SMS_FROM": sms_from,
        "TWILIO_WHATSAPP_FROM": whatsapp_from,
        "TWILIO_API_BASE": twilio.url,
    }


def fake_provider_env(
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    *,
    telegram_secret: str,
    sms_from: str = SMS_NUMBER,
    whatsapp_from: str = WHATSAPP_NUMBER,
) -> dict[str, str]:
    """The settings that point a stack's Twilio and Telegram SDK clients at the loopback fakes."""
    return {
        **twilio_env(twilio, sms_from=sms_from, whatsapp_from=whatsapp_from),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_WEBHOOK_SECRET": telegram_secret,
        "TELEGRAM_BASE_URL": telegram.base_url,
    }
