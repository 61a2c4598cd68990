"""Conversations and their transcripts; the gateway's message pipeline to Rasa."""
