"""`make bench-import`: the portfolio import's rows per second on SQLite and PostgreSQL."""
