"""Limit settings are checked when the settings load, and a refused value is never echoed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import GatewaySettings


@pytest.mark.parametrize(
    "values",
    [
        {"rate_limit_sender": "lots"},
        {"rate_limit_webchat_ip": "10 per fortnight"},
        {"trusted_proxies": "10.0.0.0/8, proxy.internal"},
        {"rate_limit_storage_url": "memcachedish://user:hunter2hunter2@host"},
        {"max_body_bytes": 10},
    ],
)
def test_a_typo_fails_at_start(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as refused:
        GatewaySettings(**values)  # type: ignore[arg-type]
    assert "hunter2hunter2" not in str(refused.value)


def test_defaults_and_per_path_bodies() -> None:
    settings = GatewaySettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.rate_limit_enabled and settings.rate_limit_storage_url == "memory://"
    assert settings.max_body_bytes == 65536
    assert settings.max_body_bytes_by_path["/nlg"] > settings.max_body_bytes
