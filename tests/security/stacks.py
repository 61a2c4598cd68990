"""The special stacks of the security tests, each started once per session and shared by the
modules that need its configuration (tests/security/conftest.py):

- `SecurityStack` on SQLite: Rasa on the SQL tracker store (bot/endpoints-sharded.yml, as compose
  runs it), uvicorn's access log on (the Docker image's command) at LOG_LEVEL INFO, a short
  verified-idle time, and no payment provider (a deployment that forgot its Stripe keys: no keys,
  no PAYMENTS_SANDBOX). test_webchat_sessions.py reads its logs and waits out the idle time;
  test_erase_rasa.py[sqlite] erases from its Rasa database; test_payments_sandbox.py checks that
  "pay" offers no link and every sandbox route is a 404.
- `SecurityStack` on PostgreSQL (services and Rasa's tracker store): test_lockout.py[postgres]
  guesses on it, test_erase_rasa.py[postgres] erases from its Rasa database.

Every test on them works on debtors of its own (tests/own_debtor.py or its own rows), so the
modules do not see each other's conversations, locks or erasures."""

from __future__ import annotations

from dataclasses import dataclass

from tests.stack import Stack

IDLE_SECONDS = 6.0  # WEBCHAT_VERIFIED_IDLE_MINUTES of the SQLite stack, in seconds
LOCK_DBS = {"sqlite": 11, "postgres": 12}  # Redis dbs for these Rasas' locks (topology 4-6, test_sharding 13, inbox 15)


@dataclass
class SecurityStack(Stack):
    """tests/stack.py's processes, Rasa on the SQL tracker store (the stack's `tracker_store_url`
    and `lock_db`: Rasa's store, and the gateway's to erase from), the gateway's access log on;
    optionally without any payment provider."""

    without_payments: bool = False

    def env(self) -> dict[str, str]:
        env = super().env()
        if self.without_payments:
            for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY_FILE"):
                env.pop(name, None)
            env["PAYMENTS_SANDBOX"] = "false"
        return env

    def command(self, name: str) -> list[str]:
        return [part for part in super().command(name) if part != "--no-access-log"]
