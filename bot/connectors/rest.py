"""Rasa's plain REST channel (`/webhooks/rest/webhook`: the benchmark, debugging) behind the
same token as the gateway channel (token_auth.py)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput

from bot.connectors import token_auth


class TokenRestInput(RestInput):
    def __init__(self, token: Optional[Text] = None) -> None:
        self.token = token

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(token=token_auth.configured_token(credentials))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return token_auth.protect(super().blueprint(on_new_message), self.token)
