"""People and their data: debtors, identity checks, consent, staff accounts, privacy, GDPR and the audit trail."""
