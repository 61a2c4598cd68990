"""Portfolio import: a creditor's debtors and debts from CSV / JSON Lines, upserted by (creditor, reference)."""
