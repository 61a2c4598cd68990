"""Double-entry ledger: every money movement is a balanced transaction; balances are sums."""
