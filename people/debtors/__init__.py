"""Debtors and their itemised debts (the account domain)."""
