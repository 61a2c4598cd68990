"""Developer tools behind `make` targets (evaluation, reports)."""
