"""Channel adapters: how debtors reach the assistant (web chat today)."""
