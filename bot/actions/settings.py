"""Action server settings (one class per process)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from core.config import DEFAULT_DATABASE_URL
from core.internal_tokens import InternalTokenSettings
from core.profile import Profile, database_problems, public_url_problems, refuse_unfit, token_problems
from core.settings_sources import SecretSources
from payments.config import PaymentSettings


class ActionSettings(SecretSources, Profile, InternalTokenSettings, PaymentSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    default_locale: str = "en"

    def production_problems(self) -> list[str]:
        """What the action server reads, checked as the gateway checks it (core/profile.py)."""
        return [
            *database_problems(self.database_url),
            *public_url_problems(self.public_base_url),
            *token_problems(self),
            *self.payment_problems(),
        ]


@lru_cache
def get_settings() -> ActionSettings:
    """Refused when production is not fit for it (the action server checks at start)."""
    settings = ActionSettings()
    refuse_unfit(settings)
    return settings
