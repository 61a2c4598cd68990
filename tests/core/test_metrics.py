"""core/metrics.py: labels stay bounded whatever a caller passes, and who may read metrics."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import HTTPException
from prometheus_client import REGISTRY

from core import metrics


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_unknown_label_values_become_other_never_the_value() -> None:
    before = sample("assistant_turn_seconds_count", channel="other")
    metrics.turn_finished("+46701234567", 0.5)  # a phone number passed by mistake
    assert sample("assistant_turn_seconds_count", channel="other") == before + 1
    assert REGISTRY.get_sample_value("assistant_turn_seconds_count", {"channel": "+46701234567"}) is None
    metrics.outbound("sms", "delivered to +46701234567")
    assert sample("assistant_outbound_messages_total", channel="sms", status="other") >= 1
    metrics.payment_booked("gbp", Decimal("12.50"))
    metrics.payment_booked("UK-300552", Decimal("1"))
    assert sample("assistant_payments_booked_amount_total", currency="GBP") >= 12.5
    assert REGISTRY.get_sample_value("assistant_payments_booked_total", {"currency": "UK-300552"}) is None


def test_webhook_ack_times_refusals_under_their_status() -> None:
    before = sample("assistant_webhook_ack_seconds_count", route="telegram", status="403")
    with pytest.raises(HTTPException), metrics.webhook_ack("telegram"):
        raise HTTPException(status_code=403)
    assert sample("assistant_webhook_ack_seconds_count", route="telegram", status="403") == before + 1
    with pytest.raises(RuntimeError), metrics.webhook_ack("twilio_sms"):
        raise RuntimeError("boom")
    assert sample("assistant_webhook_ack_seconds_count", route="twilio_sms", status="500") >= 1


@pytest.mark.parametrize(
    ("peer", "headers", "token", "allowed"),
    [
        ("127.0.0.1", {}, None, True),
        ("::1", {}, None, True),
        ("127.0.0.1", {"x-forwarded-for": "203.0.113.7"}, None, False),  # a local proxy's client
        ("127.0.0.1", {"forwarded": "for=203.0.113.7"}, None, False),
        ("203.0.113.7", {}, None, False),
        ("203.0.113.7", {"authorization": "Bearer s3cret-token-0123"}, None, False),  # no token configured
        ("203.0.113.7", {"authorization": "Bearer s3cret-token-0123"}, "s3cret-token-0123", True),
        ("203.0.113.7", {"authorization": "bearer s3cret-token-0123"}, "s3cret-token-0123", True),
        ("203.0.113.7", {"authorization": "Bearer wrong"}, "s3cret-token-0123", False),
        ("203.0.113.7", {"authorization": "Basic s3cret-token-0123"}, "s3cret-token-0123", False),
        (None, {}, None, False),
        ("testclient", {}, None, False),
    ],
)
def test_scrape_allowed(peer: str | None, headers: dict[str, str], token: str | None, allowed: bool) -> None:
    assert metrics.scrape_allowed(peer=peer, headers=headers, token=token) is allowed
