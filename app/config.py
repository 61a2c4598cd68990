"""Gateway settings (one class per process, read from the environment / .env): the shared ones
(core/config.py) plus each feature's own."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from channels.config import ChannelSettings
from core.config import CoreSettings
from core.profile import refuse_unfit
from engine.abuse.config import AbuseSettings
from payments.config import PaymentSettings


class OpsSettings(BaseSettings):
    """Probes and metrics (docs/operations.md): what /health/ready checks, who reads /metrics."""

    # /metrics (gateway and worker) answers loopback clients, or anyone with this bearer token.
    metrics_token: SecretStr | None = None
    # The database gauges of a scrape (inbox, handoff queue) give up after this long.
    metrics_timeout_seconds: float = Field(default=2.0, gt=0)
    # The worker's own /metrics (its counters live in its process); port 0 turns it off.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9101, ge=0, le=65535)
    # /health/ready is 503 when the oldest waiting inbox event is older than this.
    ready_max_inbox_age_seconds: float = Field(default=300.0, gt=0)
    # Rasa's Redis lock store (sharded Rasa), e.g. redis://redis:6379/1: checked by /health/ready.
    rasa_lock_store_url: str | None = None


class GatewaySettings(CoreSettings, AbuseSettings, PaymentSettings, ChannelSettings, OpsSettings):
    """Everything the gateway needs; abuse limits: engine/abuse/config.py, payments:
    payments/config.py, channels: channels/config.py, probes and metrics: OpsSettings."""

    def production_problems(self) -> list[str]:
        """Every part's (core/profile.py), in one list: the gateway and the worker refuse on any."""
        return [
            *super().production_problems(),
            *self.abuse_problems(),
            *self.payment_problems(),
            *self.channel_problems(),
        ]


@lru_cache
def get_settings() -> GatewaySettings:
    """The settings the gateway and the worker run with: refused when production is not fit for it."""
    settings = GatewaySettings()
    refuse_unfit(settings)
    return settings
