"""The ground: settings, database, logging, errors, secrets and the template step; imports nothing above it."""
