"""REST channel for the gateway that also returns what NLU understood.

Same request as Rasa's REST channel (`sender`, `message`, `metadata`); the response adds the
intent and confidence of the message, read from the tracker after processing, so the gateway
can store them in the transcript without a second NLU round trip, and the custom actions that
failed during the turn (`failed_actions`, see action_failures.py). Only the gateway may call
it: `token: ${RASA_AUTH_TOKEN}` in bot/credentials.yml, checked by token_auth.py (401 without).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import UserUttered

from bot.connectors import action_failures, event_types, fast_validation, token_auth

fast_validation.install()
event_types.install()
action_failures.install()


class GatewayInput(RestInput):
    def __init__(self, token: Optional[Text] = None) -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(token=token_auth.configured_token(credentials))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("gateway_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json or {}
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not isinstance(text, str):
                return response.json({"error": "sender and message are required strings"}, status=400)
            collector = CollectingOutputChannel()
            failed = action_failures.collect()
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=body.get("metadata"))
            )
            understood: Dict[str, Any] = {}
            agent = getattr(request.app.ctx, "agent", None)
            if agent is not None and agent.tracker_store is not None:
                tracker = await agent.tracker_store.retrieve(sender)
                if tracker is not None:
                    # The last user event, not `latest_message`: after a rewind (an action undoing
                    # the user's turn) that points at an earlier message.
                    for event in reversed(tracker.events):
                        if isinstance(event, UserUttered):
                            understood = event.parse_data.get("intent") or {}
                            break
            return response.json(
                {
                    "messages": collector.messages,
                    "intent": {"name": understood.get("name"), "confidence": understood.get("confidence")},
                    "failed_actions": failed,
                }
            )

        return token_auth.protect(hook, self.token)
