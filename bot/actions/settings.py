"""Action server settings (one class per process)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from core.config import DEFAULT_DATABASE_URL
from core.internal_tokens import InternalTokenSettings
from core.settings_sources import SecretSources
from payments.config import PaymentSettings


class ActionSettings(SecretSources, InternalTokenSettings, PaymentSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    default_locale: str = "en"


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings()
