"""Which of our languages a message is in, and which language a conversation continues in."""
