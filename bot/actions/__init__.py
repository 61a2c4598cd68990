"""The rasa_sdk action server: `python -m rasa_sdk --actions bot.actions` loads every module here."""
