"""Twilio does not retry a failed SMS/WhatsApp webhook; it calls the number's Fallback URL once,
with `ErrorCode` and `ErrorUrl` added (docs/scaling.md says to point it at the same endpoint).
That request is signed like any other and the message is stored once, whichever call got through."""

from __future__ import annotations

from sqlalchemy import func, select

from app.tools.reliability.harness import Target, in_process
from app.tools.reliability.webhooks import twilio_form, twilio_request, twilio_signature
from engine.inbox.models import InboundEvent


async def post(target: Target, form: dict[str, str]) -> int:
    url = target.public_base_url + "/channels/twilio/sms"
    signature = twilio_signature(url, form, target.twilio_token)
    return await twilio_request("twilio-sms", "fallback", form, signature).send(target)


async def stored(target: Target, sid: str) -> int:
    async with target.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.provider_message_id == sid)
        )
    return int(count or 0)


async def test_the_fallback_call_is_accepted_and_the_message_stored_once() -> None:
    async with in_process() as target:
        primary = twilio_form("twilio-sms", body="can I pay next week?")
        fallback = {**primary, "ErrorCode": "11200", "ErrorUrl": target.public_base_url + "/channels/twilio/sms"}
        # The primary failed before storing (no call here): the fallback alone stores it.
        assert await post(target, fallback) == 200
        assert await stored(target, primary["MessageSid"]) == 1
        # The primary got through after all (a timeout on Twilio's side): still one message.
        assert await post(target, primary) == 200
        assert await stored(target, primary["MessageSid"]) == 1
