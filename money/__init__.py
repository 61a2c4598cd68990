"""Money owed and how it is settled: ledger, plans, policies, holds, hardship, disputes and reminders."""
