"""Checkout providers: Stripe Checkout, or the local sandbox when PAYMENTS_SANDBOX=true (opt-in).

Both hand back a Checkout Session id and a URL; the money arrives later as signed webhook
events on the same endpoint, so the rest of the code cannot tell them apart.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from payments.config import PaymentSettings

# Stripe Checkout's own UI locales for ours.
CHECKOUT_LOCALES = {"en": "en-GB", "sv": "sv", "de": "de", "pt-BR": "pt-BR"}


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: int
    currency: str
    amount_minor: int
    description: str
    locale: str
    customer_email: str | None
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


class CheckoutProvider(Protocol):
    name: str

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...


class StripeProvider:
    name = "stripe"

    def __init__(self, settings: PaymentSettings) -> None:
        assert settings.stripe_secret_key is not None
        self.api_key = settings.stripe_secret_key.get_secret_value()
        if settings.stripe_api_base:
            stripe.api_base = settings.stripe_api_base
        # Only `*_async` SDK calls are used here: the SDK runs them on httpx, off the event loop.

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        metadata = {"payment_id": str(request.payment_id)}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description},
                    },
                    "quantity": 1,
                }
            ],
            "metadata": metadata,
            # Copied onto the PaymentIntent and its charges: events about them find the payment too.
            "payment_intent_data": {"metadata": metadata},
            "client_reference_id": str(request.payment_id),
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "locale": CHECKOUT_LOCALES.get(request.locale, "auto"),
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        session = await stripe.checkout.Session.create_async(
            api_key=self.api_key, idempotency_key=f"checkout-{request.payment_id}", **params
        )
        return CheckoutSession(id=session.id, url=str(session.url))


class SandboxProvider:
    """Offline stand-in: its checkout page is served by the gateway and, when "paid", sends
    Stripe-shaped events signed like Stripe's to the real webhook endpoint."""

    name = "sandbox"

    def __init__(self, settings: PaymentSettings) -> None:
        self.base = settings.public_base_url.rstrip("/")

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        session_id = f"cs_sandbox_{secrets.token_urlsafe(18)}"
        return CheckoutSession(id=session_id, url=f"{self.base}/payments/sandbox/checkout/{session_id}")


def provider_for(settings: PaymentSettings) -> CheckoutProvider | None:
    """Stripe when keyed, the sandbox only by opt-in, else None: card payment is not available."""
    if settings.provider_name == "stripe":
        return StripeProvider(settings)
    if settings.provider_name == "sandbox":
        return SandboxProvider(settings)
    return None
