"""The offline sandbox's events: shaped like Stripe's, signed like Stripe's, sent to our webhook.

Only used with PAYMENTS_SANDBOX=true and no STRIPE_SECRET_KEY; the checkout page says loudly that it
is a test. Without the flag every sandbox route is a 404 (payments/views.py).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

import httpx
import stripe

from payments.models import Payment

log = logging.getLogger(__name__)


def _event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_sandbox_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": kind,
        "data": {"object": obj},
    }


def paid_events(payment: Payment) -> list[dict[str, Any]]:
    """What Stripe sends when a Checkout Session is paid: session completed + intent succeeded."""
    intent = payment.payment_intent_id or f"pi_sandbox_{secrets.token_hex(12)}"
    metadata = {"payment_id": str(payment.id)}
    session = {
        "id": payment.checkout_session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": intent,
        "amount_total": payment.amount_minor,
        "currency": payment.currency.lower(),
        "client_reference_id": str(payment.id),
        "metadata": metadata,
    }
    intent_obj = {
        "id": intent,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": payment.amount_minor,
        "amount_received": payment.amount_minor,
        "currency": payment.currency.lower(),
        "metadata": metadata,
    }
    return [_event("checkout.session.completed", session), _event("payment_intent.succeeded", intent_obj)]


def declined_events(payment: Payment) -> list[dict[str, Any]]:
    intent = {
        "id": payment.payment_intent_id or f"pi_sandbox_{secrets.token_hex(12)}",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "amount": payment.amount_minor,
        "currency": payment.currency.lower(),
        "metadata": {"payment_id": str(payment.id)},
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined (sandbox)."},
    }
    return [_event("payment_intent.payment_failed", intent)]


async def deliver(events: list[dict[str, Any]], *, webhook_url: str, secret: str, http: httpx.AsyncClient) -> None:
    """POST each event, signed with the webhook secret exactly as Stripe signs, in order."""
    for event in events:
        body = json.dumps(event, separators=(",", ":"))
        header = stripe.WebhookSignature.generate_signature_header(body, secret)
        try:
            await http.post(
                webhook_url,
                content=body,
                headers={"Stripe-Signature": header, "Content-Type": "application/json"},
                timeout=30,
            )
        except httpx.HTTPError as exc:
            # Like Stripe, the sandbox gives up quietly; the payment stays open and can be paid again.
            log.warning("sandbox.delivery_failed", extra={"event": event.get("type"), "error": repr(exc)})
            return
