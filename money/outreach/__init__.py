"""First contact on overdue debts: a cadence per jurisdiction, one-time web chat links, the funnel."""
