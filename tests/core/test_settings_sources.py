"""Secrets only from the environment or files (NAME, NAME_FILE, SECRETS_DIR), never shown: not in
the settings' repr/str/JSON, not in what a gateway start logs or prints."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pydantic_settings.exceptions import SettingsError

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from bot.actions.settings import ActionSettings
from core.logging import build_handler
from core.settings_sources import mask_url
from tests.stack import free_port

SECRETS = {
    "TWILIO_AUTH_TOKEN": "tw-secret-7f3a9c1e5b",
    "TELEGRAM_BOT_TOKEN": "999:tg-secret-token-c0ffee",
    "TELEGRAM_WEBHOOK_SECRET": "tg-hook-secret-d15ea5e",
    "STRIPE_SECRET_KEY": "sk_test_secret_5ca1ab1e",
    "STRIPE_WEBHOOK_SECRET": "whsec_secret_0ddba11",
    "ACTION_SERVER_TOKEN": "actions-token-a11ce5ed",
    "RASA_AUTH_TOKEN": "rasa-token-5ca1ab1e",
    "NLG_TOKEN": "nlg-token-deadbea7",
}
DB_PASSWORD = "db-pass-b16b00b5"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [*SECRETS, "SECRETS_DIR", "DATABASE_URL"]:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path / "no-secrets-dir"))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_name_file_and_secrets_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", SECRETS["TWILIO_AUTH_TOKEN"])
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN_FILE", write(tmp_path / "tg", SECRETS["TELEGRAM_BOT_TOKEN"] + "\n"))
    secrets_dir = tmp_path / "run-secrets"
    secrets_dir.mkdir()
    write(secrets_dir / "stripe_webhook_secret", SECRETS["STRIPE_WEBHOOK_SECRET"])
    write(secrets_dir / "twilio_auth_token", "the environment wins over the secrets dir")
    monkeypatch.setenv("SECRETS_DIR", str(secrets_dir))
    settings = GatewaySettings()
    assert settings.twilio_auth_token and settings.twilio_auth_token.get_secret_value() == SECRETS["TWILIO_AUTH_TOKEN"]
    assert (
        settings.telegram_bot_token and settings.telegram_bot_token.get_secret_value() == SECRETS["TELEGRAM_BOT_TOKEN"]
    )
    assert settings.webhook_secret() == SECRETS["STRIPE_WEBHOOK_SECRET"]
    assert ActionSettings().webhook_secret() == SECRETS["STRIPE_WEBHOOK_SECRET"]  # the action server too


def test_a_missing_directory_is_no_error_but_ambiguity_and_unreadable_files_are(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert GatewaySettings().twilio_auth_token is None  # SECRETS_DIR does not exist: simply not used
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_a")
    monkeypatch.setenv("STRIPE_SECRET_KEY_FILE", write(tmp_path / "sk", "sk_b"))
    with pytest.raises(SettingsError, match="STRIPE_SECRET_KEY and STRIPE_SECRET_KEY_FILE"):
        GatewaySettings()
    monkeypatch.delenv("STRIPE_SECRET_KEY")
    monkeypatch.setenv("STRIPE_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="cannot read"):
        GatewaySettings()


def test_secrets_never_show_in_repr_str_or_json() -> None:
    secrets: dict[str, Any] = {name.lower(): SecretStr(value) for name, value in SECRETS.items()}
    settings = GatewaySettings(
        **secrets,
        database_url=f"postgresql://assistant:{DB_PASSWORD}@db:5432/assistant",
        huey_redis_url=f"redis://:{DB_PASSWORD}@redis:6379/0",
    )
    assert settings.database_url.endswith(f":{DB_PASSWORD}@db:5432/assistant")  # the value itself is intact
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        for secret in [*SECRETS.values(), DB_PASSWORD]:
            assert secret not in shown
    assert "postgresql://assistant:***@db:5432/assistant" in repr(settings)
    assert mask_url("https://api.example.org/x?a=b") == "https://api.example.org/x?a=b"


def test_a_gateway_start_logs_no_secret(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"{name}_FILE", write(tmp_path / name.lower(), value))
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    migrate(url)
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_SMS_FROM", "+46700000000")
    settings = GatewaySettings(
        database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5, telegram_base_url=dead
    )
    assert settings.stripe_secret_key and settings.stripe_secret_key.get_secret_value() == SECRETS["STRIPE_SECRET_KEY"]
    for logger in logging.root.manager.loggerDict.values():  # Alembic's fileConfig (migrate) disabled them
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")  # the gateway's own handler (app/logging.py), to stderr
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        logging.getLogger("test").info("settings at start: %s", settings)
    output = "".join(capsys.readouterr())  # what the gateway wrote: its log handler's lines, its prints
    assert "settings at start" in output and output.count("\n") > 10  # the start did log (at DEBUG)
    for secret in SECRETS.values():
        assert secret not in output


def test_remembered_secrets_are_masked_in_every_part_of_a_log_line() -> None:
    GatewaySettings(
        telegram_bot_token=SecretStr(SECRETS["TELEGRAM_BOT_TOKEN"])
    )  # a settings object remembers its secrets
    stream = io.StringIO()
    logger = logging.getLogger("tests.secrets_filter")
    logger.addHandler(handler := build_handler(stream=stream))
    try:
        url = f"https://api.telegram.org/bot{SECRETS['TELEGRAM_BOT_TOKEN']}/sendMessage"
        try:
            raise RuntimeError(f"call failed: {url}")
        except RuntimeError:
            logger.exception("telegram %s", url, extra={"url": url, "nested": {"url": url}})
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "call failed" in line and "[secret]" in line and SECRETS["TELEGRAM_BOT_TOKEN"] not in line
