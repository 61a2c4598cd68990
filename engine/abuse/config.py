"""Abuse limits, all configurable (mixed into GatewaySettings; env var = upper-case field name).

Rates use the `limits` notation, several separated by ";" and all enforced: "20/minute;300/hour".
The defaults suit one debtor typing by hand and one office behind a NAT; load tests raise them
(tests/stack.py does for every test and benchmark stack). /tmp/notes/limits.md lists them too.
"""

from __future__ import annotations

from pathlib import Path

from limits import parse_many
from limits.storage import SCHEMES
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from core.profile import redis_url_problem
from engine.abuse.clientip import trusted_networks

MIB = 1024 * 1024
RATE_FIELDS = (
    "rate_limit_webchat_session",
    "rate_limit_webchat_ip",
    "rate_limit_webchat_connect_ip",
    "rate_limit_webchat_sessions_ip",
    "rate_limit_sender",
    "rate_limit_webhook_failures_ip",
    "rate_limit_login_ip",
)


class AbuseSettings(BaseSettings):
    # Master switch of the rate limits (not of the login lockout nor of the body size limit).
    rate_limit_enabled: bool = True
    # memory:// counts per process; redis://host:6379/2 shares the counts between gateway replicas.
    rate_limit_storage_url: str = "memory://"
    rate_limit_strategy: str = Field(
        default="sliding-window-counter", pattern=r"^(sliding-window-counter|fixed-window|moving-window)$"
    )
    # Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client;
    # empty: the peer address is the client (nobody can claim another IP by sending the header).
    trusted_proxies: str = ""
    # Web chat messages per session id (REST and WebSocket together), and per client IP.
    rate_limit_webchat_session: str = "20/minute;300/hour"
    rate_limit_webchat_ip: str = "120/minute;1500/hour"
    # WebSocket connections opened per client IP.
    rate_limit_webchat_connect_ip: str = "60/minute"
    # Web chat sessions created per client IP (a page keeps its session; a new one per page load is abuse).
    rate_limit_webchat_sessions_ip: str = "20/minute;200/hour"
    # Messages per verified sender (phone number, WhatsApp number, Telegram chat) on provider webhooks.
    rate_limit_sender: str = "20/minute;200/hour"
    # Failed authenticity checks per IP on provider webhooks; once used up, that IP's webhooks are
    # refused before any check. Verified webhooks never count (Twilio sends from a few IPs).
    rate_limit_webhook_failures_ip: str = "20/minute;100/hour"
    # Failed console logins per client IP, whatever the username.
    rate_limit_login_ip: str = "20/15minutes;100/day"
    # Console login lockout (people/auth/service.py Lockout): failures of one username from one IP within the
    # window lock that pair; each repeated lock doubles, up to the cap. Failures of one username from
    # all IPs together lock the username for everyone, for the base time only (never growing).
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: float = Field(default=15.0, gt=0)
    login_lock_minutes: float = Field(default=15.0, gt=0)
    login_lock_max_minutes: float = Field(default=1440.0, gt=0)
    login_username_max_failures: int = Field(default=20, ge=1)
    # Request bodies (engine/abuse/bodysize.py): every route, and larger where a route needs it (exact paths).
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_body_bytes_by_path: dict[str, int] = Field(
        default_factory=lambda: {
            "/nlg": 4 * MIB,
            "/payments/stripe/webhook": 256 * 1024,
            "/agent/api/admin/portfolio/imports": 64 * MIB,  # a portfolio file (100 000 rows: ~15 MiB)
        }
    )
    # Docker/Kubernetes secrets: a file per setting, named like it (app/settings_sources.py).
    secrets_dir: Path = Path("/run/secrets")

    def abuse_problems(self) -> list[str]:
        """Production: counters every gateway replica shares, and survive a restart (core/profile.py)."""
        return redis_url_problem(
            "RATE_LIMIT_STORAGE_URL", self.rate_limit_storage_url, "rate limits counted in memory reset on restart"
        )

    # A typo fails at start, not on the first request.
    @field_validator(*RATE_FIELDS)
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_many(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        trusted_networks(value)
        return value

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _storage(cls, value: str) -> str:
        scheme = value.partition("://")[0].removeprefix("async+")
        if f"async+{scheme}" not in SCHEMES:
            raise ValueError(f"unknown rate limit storage {scheme!r}: memory:// or redis://host:port/db")
        return value
