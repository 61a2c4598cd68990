"""Custom NLU components for Rasa 3.6 (run inside the Rasa virtualenv)."""
