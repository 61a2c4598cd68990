"""App wiring: settings, database, the FastAPI gateway and the process runner."""
