"""The production profile (core/profile.py): each unfit setting is named, all of them at once; a
complete production configuration passes; demo and test run on SQLite and plain http."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import GatewaySettings
from bot.actions.settings import ActionSettings
from core import internal_tokens
from core.profile import ProfileRefused, refuse_unfit


def production(**changes: Any) -> dict[str, Any]:
    """A complete production configuration (as docker-compose hands it over), with `changes`."""
    values: dict[str, Any] = {
        "assistant_env": "production",
        "database_url": "postgresql://assistant:pw@postgres:5432/assistant",
        "public_base_url": "https://assistant.example.com",
        "rate_limit_storage_url": "redis://redis:6379/2",
        "huey_redis_url": "redis://redis:6379/0",
        "huey_immediate": False,
        "payments_sandbox": False,
        "twilio_account_sid": "AC" + "1" * 32,
        "twilio_auth_token": "twilio-auth-token",
        "twilio_sms_from": "+46700000000",
        "twilio_whatsapp_from": None,
        "telegram_bot_token": "123456:ABC",
        "telegram_webhook_secret": "telegram-webhook-secret",
        "stripe_secret_key": "sk_live_x",
        "stripe_webhook_secret": "whsec_x",
        **{name.lower(): value for name, value in internal_tokens.generate().items()},
    }
    return {**values, **changes}


def gateway(**values: Any) -> GatewaySettings:
    return GatewaySettings(_env_file=None, **values)  # type: ignore[call-arg]


def actions(**values: Any) -> ActionSettings:
    fields = ActionSettings.model_fields
    return ActionSettings(_env_file=None, **{k: v for k, v in values.items() if k in fields})  # type: ignore[call-arg]


def test_a_complete_production_configuration_passes() -> None:
    for settings in (gateway(**production()), actions(**production())):
        assert settings.production_problems() == []
        refuse_unfit(settings)  # no exception


def test_providers_may_be_left_out_entirely() -> None:
    off = dict.fromkeys(
        ("twilio_account_sid", "twilio_auth_token", "twilio_sms_from", "telegram_bot_token", "stripe_secret_key")
    )
    off["telegram_webhook_secret"] = off["stripe_webhook_secret"] = None
    assert gateway(**production(**off)).production_problems() == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"database_url": "sqlite+aiosqlite:///var/debtor.db"}, "DATABASE_URL is SQLite"),
        ({"database_url": "sqlite:///var/debtor.db"}, "DATABASE_URL is SQLite"),
        ({"public_base_url": "http://assistant.example.com"}, "PUBLIC_BASE_URL is not an https://"),
        ({"public_base_url": "https://"}, "PUBLIC_BASE_URL is not an https://"),
        ({"payments_sandbox": True}, "PAYMENTS_SANDBOX is on"),
        ({"stripe_webhook_secret": None}, "Stripe is half-configured"),
        ({"stripe_secret_key": None}, "Stripe is half-configured"),
        ({"action_server_token": None}, "ACTION_SERVER_TOKEN is not set"),
        ({"rasa_auth_token": ""}, "RASA_AUTH_TOKEN is not set"),
        ({"nlg_token": "long-random-string"}, "NLG_TOKEN is weak"),
        ({"nlg_token": "a" * 64}, "NLG_TOKEN is weak"),
    ],
)
def test_each_process_names_what_is_unfit(change: dict[str, Any], named: str) -> None:
    for settings in (gateway(**production(**change)), actions(**production(**change))):
        problems = settings.production_problems()
        assert len(problems) == 1 and problems[0].startswith(named), (type(settings).__name__, problems)
        with pytest.raises(ProfileRefused, match="refusing to start") as refused:
            refuse_unfit(settings)
        assert named in str(refused.value)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"rate_limit_storage_url": "memory://"}, "RATE_LIMIT_STORAGE_URL is not a Redis URL"),
        ({"huey_redis_url": None}, "HUEY_REDIS_URL is not a Redis URL"),
        ({"huey_redis_url": "sqlite:///var/huey.db"}, "HUEY_REDIS_URL is not a Redis URL"),
        ({"huey_immediate": True}, "HUEY_IMMEDIATE is on"),
        ({"twilio_auth_token": None}, "Twilio is half-configured: TWILIO_AUTH_TOKEN missing"),
        ({"twilio_sms_from": None}, "Twilio is half-configured: TWILIO_SMS_FROM or TWILIO_WHATSAPP_FROM missing"),
        ({"twilio_account_sid": None}, "Twilio is half-configured: TWILIO_ACCOUNT_SID missing"),
        ({"telegram_webhook_secret": None}, "Telegram is half-configured"),
        ({"telegram_bot_token": None}, "Telegram is half-configured"),
    ],
)
def test_the_gateway_and_worker_name_their_own_needs(change: dict[str, Any], named: str) -> None:
    problems = gateway(**production(**change)).production_problems()
    assert len(problems) == 1 and problems[0].startswith(named), problems


def test_whatsapp_alone_is_a_sender() -> None:
    settings = gateway(**production(twilio_sms_from=None, twilio_whatsapp_from="+46700000001"))
    assert settings.production_problems() == []


def test_rediss_and_sentinel_storage_count_as_redis() -> None:
    for url in ("rediss://redis:6380/2", "redis+sentinel://sentinel:26379/mymaster", "async+redis://redis:6379/2"):
        assert gateway(**production(rate_limit_storage_url=url)).production_problems() == []


def test_the_same_token_twice_is_refused() -> None:
    token = internal_tokens.generate()["NLG_TOKEN"]
    problems = gateway(**production(rasa_auth_token=token, nlg_token=token)).production_problems()
    assert problems == ["NLG_TOKEN is the same as another internal token: each needs its own"]


def test_every_problem_in_one_message() -> None:
    """The embedded defaults (what an empty environment gives) fail on every count at once."""
    settings = gateway(
        assistant_env="production", payments_sandbox=True, stripe_secret_key="sk_x", huey_immediate=False
    )
    with pytest.raises(ProfileRefused) as refused:
        refuse_unfit(settings)
    message = str(refused.value)
    for name in (
        "DATABASE_URL", "PUBLIC_BASE_URL", "ACTION_SERVER_TOKEN", "RASA_AUTH_TOKEN", "NLG_TOKEN",
        "RATE_LIMIT_STORAGE_URL", "HUEY_REDIS_URL", "PAYMENTS_SANDBOX", "Stripe",
    ):  # fmt: skip
        assert f"  - {name}" in message, name
    assert "sk_x" not in message  # names, never values


@pytest.mark.parametrize("profile", ["demo", "test"])
def test_demo_and_test_run_on_one_machine(profile: str) -> None:
    """The embedded defaults: SQLite, http on loopback, the sandbox, memory rate limits, no tokens."""
    for settings in (gateway(assistant_env=profile, payments_sandbox=True), actions(assistant_env=profile)):
        assert settings.database_url.startswith("sqlite")
        refuse_unfit(settings)  # no exception
