"""Settings every process shares, read from the environment / .env; the features add their own
settings classes, composed by the gateway (app/config.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.internal_tokens import InternalTokenSettings
from core.profile import Profile, database_problems, public_url_problems, token_problems
from core.settings_sources import SecretSources

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{ROOT / 'var' / 'debtor.db'}"


class PublicAddress(BaseSettings):
    """Where debtors and providers reach the gateway: payment pages, webhook signatures, cookies.
    A mixin of its own, as channels, payments and the action server all need it."""

    public_base_url: str = "http://127.0.0.1:8000"


class CoreSettings(SecretSources, Profile, InternalTokenSettings, PublicAddress):
    """What every process shares (database, Rasa, the action server, limits on messages, training);
    defaults are the embedded (single machine) setup. Secrets come from the environment or files
    only (core/settings_sources.py). The gateway adds the features' own settings (app/config.py)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    rasa_url: str = "http://127.0.0.1:5005"
    # Sharded Rasa (engine/conversations/sharding.py): RASA_URLS lists every instance (comma-separated);
    # without it RASA_INSTANCES=N means RASA_URL's host on N consecutive ports. See rasa_endpoints().
    rasa_urls: str = ""
    rasa_instances: int = Field(default=1, ge=1, le=64)
    # Rasa's SQL tracker store (the URL Rasa gets in bot/endpoints-sharded.yml); GDPR erasure and
    # retention delete conversations' rows there (engine/conversations/tracker_store.py). Unset: in memory.
    rasa_tracker_store_url: str | None = None
    action_server_url: str = "http://127.0.0.1:5055"
    # The inbox queue retries a conversation whose turn failed with backoff up to this long.
    inbox_max_backoff_seconds: float = 300.0
    host: str = "127.0.0.1"
    port: int = Field(default=8000, validation_alias=AliasChoices("GATEWAY_PORT", "port"))
    default_locale: str = "en"
    # Longest message the assistant will read; longer ones get a polite reply.
    max_message_chars: int = 1000
    # Longest message the API accepts at all (larger bodies are a 422).
    max_request_chars: int = 10_000
    rasa_timeout_seconds: float = Field(default=30.0, gt=0)
    health_timeout_seconds: float = Field(default=2.0, gt=0)
    # A local text-classification model for distress (transformers); unset = cue lexicon only.
    signals_model_dir: Path | None = None
    # How often plans (missed installments) and promises (kept/broken) are evaluated.
    evaluate_every_minutes: float = Field(default=15.0, gt=0)
    # How long an agent console login lasts.
    staff_session_hours: float = Field(default=12.0, gt=0)
    # Admin retraining (training/): where trained models go (var/models/active.tar.gz points at
    # the active one), the Rasa executable that trains and evaluates them, the model `make train`
    # builds from the repository (registered as the first version), and a bound on one training.
    training_models_dir: Path = ROOT / "var" / "models"
    rasa_bin: Path = ROOT / ".venv-rasa" / "bin" / "rasa"
    training_initial_model: Path = ROOT / "models" / "debtor.tar.gz"
    training_timeout_seconds: float = Field(default=1800.0, gt=0)

    @model_validator(mode="after")
    def _rasa_endpoints_valid(self) -> CoreSettings:
        self.rasa_endpoints()  # a duplicated instance fails at start, not on the first message
        return self

    def production_problems(self) -> list[str]:
        """The shared part of the production profile (core/profile.py); the gateway adds its features'."""
        return [
            *database_problems(self.database_url),
            *public_url_problems(self.public_base_url),
            *token_problems(self),
        ]

    def rasa_endpoints(self) -> list[str]:
        """Every Rasa instance the gateway routes to, in a stable order (the hash ring's nodes)."""
        if self.rasa_urls.strip():
            urls = [u.strip().rstrip("/") for u in self.rasa_urls.split(",") if u.strip()]
        elif self.rasa_instances == 1:
            urls = [self.rasa_url.rstrip("/")]
        else:
            base = urlsplit(self.rasa_url.rstrip("/"))
            port = base.port or (443 if base.scheme == "https" else 80)
            host = base.netloc.rpartition("@")[2]
            host = host.rsplit(":", 1)[0] if base.port else host  # keeps [ipv6] brackets
            user = base.netloc.rpartition("@")[0]
            prefix = f"{user}@" if user else ""
            urls = [
                urlunsplit((base.scheme, f"{prefix}{host}:{port + i}", base.path, "", ""))
                for i in range(self.rasa_instances)
            ]
        if len(set(urls)) != len(urls):
            raise ValueError(f"RASA_URLS lists an instance twice: {urls}")
        return urls
