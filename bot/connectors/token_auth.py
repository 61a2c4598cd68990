"""The token Rasa's channels ask for, the same as Rasa's own `--auth-token` for its HTTP API.

Rasa's `--auth-token` protects `/conversations/...`, `/model`, `/status`, but not the channel
webhooks (`/webhooks/<channel>/webhook`): without this, anyone who reaches Rasa could talk to the
bot past the gateway (its slash-command filter, rate limits, transcript). Callers send the token
like Rasa's API wants it (`?token=`) or as `Authorization: Bearer`. The channel's credentials
carry it (bot/credentials.yml: `token: ${RASA_AUTH_TOKEN}`); a channel without one refuses every
message. Kept free of our other packages: this runs in Rasa's Python.
"""

from __future__ import annotations

import hmac
from typing import Any, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

OPEN_METHODS = ("GET", "HEAD")  # the channel's health route (`GET /webhooks/<channel>/`)


def configured_token(credentials: Optional[Dict[Text, Any]]) -> Optional[Text]:
    token = (credentials or {}).get("token")
    return str(token) if token else None


def sent_token(request: Request) -> Optional[Text]:
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = request.args.get("token")
    return str(token) if token else None


def allowed(request: Request, expected: Optional[Text]) -> bool:
    sent = sent_token(request)
    if not expected or not sent:
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def protect(blueprint: Blueprint, expected: Optional[Text]) -> Blueprint:
    """Every route of the channel but its health check answers 401 without the token."""

    @blueprint.middleware("request")
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.method in OPEN_METHODS or allowed(request, expected):
            return None
        return response.json({"error": "unauthorized"}, status=401)

    return blueprint
