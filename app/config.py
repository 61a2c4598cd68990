"""Gateway settings (one class per process, read from the environment / .env): the shared ones
(core/config.py) plus each feature's own."""

from __future__ import annotations

from functools import lru_cache

from channels.config import ChannelSettings
from core.config import CoreSettings
from engine.abuse.config import AbuseSettings
from payments.config import PaymentSettings


class GatewaySettings(CoreSettings, AbuseSettings, PaymentSettings, ChannelSettings):
    """Everything the gateway needs; abuse limits: engine/abuse/config.py, payments:
    payments/config.py, channels: channels/config.py."""


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
