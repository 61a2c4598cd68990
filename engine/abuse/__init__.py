"""Abuse limits: rate limits, body size, client IP (issue 8 point 7)."""
