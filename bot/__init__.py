"""The Rasa project (domain, config, rules) plus its custom NLU code and the action server.

Kept import-free: Rasa (Python 3.10) imports `bot.nlu` / `bot.connectors`, the action server
(Python 3.11) imports `bot.actions`; neither may drag in the other's dependencies.
"""
