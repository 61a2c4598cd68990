"""Consent per channel address (and debtor once known): opt-out in any wording, START to return."""
