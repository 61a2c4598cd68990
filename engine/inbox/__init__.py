"""Durable inbox: a message acknowledged to a provider is already committed here, then processed
by a worker (huey) in order per conversation, retried with backoff while the bot is down."""
