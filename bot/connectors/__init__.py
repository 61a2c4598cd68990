"""Rasa input channels used by our gateway (run inside the Rasa virtualenv)."""
