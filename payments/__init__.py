"""Card payments through Stripe Checkout (or the local sandbox), signed idempotent webhooks."""
