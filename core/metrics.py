"""Prometheus metric definitions, in one place for every process (gateway, worker), and the rule
for who may read them. docs/operations.md says what each one means and which alerts to set.

Labels carry only bounded, non-personal values: the channel, a named webhook route, an HTTP
status, an outcome, an ISO currency. Anything else given as a label becomes "other" here, so a
phone number, a reference or a text can never reach a label by mistake. The database gauges
(inbox, handoff queue) are read at scrape time by the gateway (app/metrics.py), not here.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

from prometheus_client import Counter, Histogram

CHANNELS = frozenset({"webchat", "sms", "whatsapp", "telegram"})
WEBHOOK_ROUTES = frozenset({"twilio_sms", "twilio_whatsapp", "twilio_status", "telegram", "stripe"})
OUTBOUND_STATUSES = frozenset({"sent", "failed"})
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_STATUS = re.compile(r"^[1-5][0-9]{2}$")
OTHER = "other"
# Headers a proxy adds: a request that went through one is not a local client, whatever its peer.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

TURN_SECONDS = Histogram(
    "assistant_turn_seconds",
    "Inbound message received to the replies sent (web chat: the request; inbox: the provider's receipt to delivery).",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 900),
)
WEBHOOK_ACK_SECONDS = Histogram(
    "assistant_webhook_ack_seconds",
    "Provider webhook received to acknowledged (the durable inbox write included), per route and HTTP status.",
    ["route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
OUTBOUND_MESSAGES = Counter(
    "assistant_outbound_messages",
    "Messages handed to a channel's provider, per channel and status (sent or failed).",
    ["channel", "status"],
)
PAYMENTS_BOOKED = Counter("assistant_payments_booked", "Payments booked on the ledger, per currency.", ["currency"])
PAYMENTS_BOOKED_AMOUNT = Counter(
    "assistant_payments_booked_amount",
    "Money booked on the ledger, in the currency's major unit (e.g. pounds), per currency.",
    ["currency"],
)
NLU_CONFIDENCE = Histogram(
    "assistant_nlu_confidence",
    "Rasa's confidence in the intent it picked, one observation per turn sent to Rasa.",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)


def channel_label(channel: str) -> str:
    return channel if channel in CHANNELS else OTHER


def turn_finished(channel: str, seconds: float) -> None:
    TURN_SECONDS.labels(channel=channel_label(channel)).observe(max(0.0, seconds))


def outbound(channel: str, status: str) -> None:
    OUTBOUND_MESSAGES.labels(
        channel=channel_label(channel), status=status if status in OUTBOUND_STATUSES else OTHER
    ).inc()


def payment_booked(currency: str, amount: Decimal) -> None:
    label = currency.upper() if _CURRENCY.match(currency.upper()) else OTHER
    PAYMENTS_BOOKED.labels(currency=label).inc()
    PAYMENTS_BOOKED_AMOUNT.labels(currency=label).inc(float(amount))


def nlu_confidence(confidence: float | None) -> None:
    if confidence is not None:
        NLU_CONFIDENCE.observe(min(1.0, max(0.0, float(confidence))))


@contextmanager
def webhook_ack(route: str) -> Iterator[None]:
    """Time a webhook from the route being called to its answer; a refusal (an HTTPException)
    is timed under its own status, anything else that escapes as a 500."""
    began, status = time.perf_counter(), "200"
    try:
        yield
    except Exception as exc:
        code = str(getattr(exc, "status_code", 500))
        status = code if _STATUS.match(code) else "500"
        raise
    finally:
        WEBHOOK_ACK_SECONDS.labels(route=route if route in WEBHOOK_ROUTES else OTHER, status=status).observe(
            time.perf_counter() - began
        )


def scrape_allowed(*, peer: str | None, headers: Mapping[str, str], token: str | None) -> bool:
    """Metrics are operational data, not public: a request with the bearer token (METRICS_TOKEN)
    may read them, otherwise only a direct loopback client (not one a local proxy forwarded)."""
    scheme, _, given = headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    if peer is None or any(headers.get(name) for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(peer.split("%", 1)[0]).is_loopback
    except ValueError:
        return False
