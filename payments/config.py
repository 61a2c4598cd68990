"""Payment settings, shared by the gateway's and the action server's settings classes."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from pydantic import SecretStr

from core.config import PublicAddress
from core.deps import settings_of

ROOT = Path(__file__).resolve().parent.parent


class PaymentSettings(PublicAddress):
    """Stripe with STRIPE_SECRET_KEY; the local sandbox (offline, clearly labelled) only when
    PAYMENTS_SANDBOX=true (`make run` sets it); otherwise no card payment at all. The sandbox books
    payments without moving money, so a deployment that forgot a key must not fall into it."""

    stripe_secret_key: SecretStr | None = None
    payments_sandbox: bool = False
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None  # tests point this at a fake Stripe on loopback
    sandbox_secret_file: Path = ROOT / "var" / "sandbox-webhook-secret"

    def payment_problems(self) -> list[str]:
        """Production: no sandbox, and Stripe either off or complete (core/profile.py)."""
        problems = []
        if self.payments_sandbox:
            problems.append("PAYMENTS_SANDBOX is on: it books payments without moving money (make run only)")
        if bool(self.stripe_secret_key) != bool(self.stripe_webhook_secret):
            problems.append(
                "Stripe is half-configured: set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or neither"
            )
        return problems

    @property
    def provider_name(self) -> str | None:
        """ "stripe", "sandbox", or None: card payment is not available here."""
        if self.stripe_secret_key:
            return "stripe"
        return "sandbox" if self.payments_sandbox else None

    def webhook_secret(self) -> str | None:
        """Stripe mode needs STRIPE_WEBHOOK_SECRET; the sandbox signs with a per-install secret;
        None without a provider (no webhook can be genuine)."""
        if self.stripe_webhook_secret:
            return self.stripe_webhook_secret.get_secret_value()
        if self.stripe_secret_key:
            raise RuntimeError("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is")
        if not self.payments_sandbox:
            return None
        path = self.sandbox_secret_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("whsec_sandbox_" + secrets.token_hex(24))
            path.chmod(0o600)
        return path.read_text().strip()


PaymentSettingsDep = Annotated[PaymentSettings, Depends(settings_of(PaymentSettings))]
