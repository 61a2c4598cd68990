"""Build the configured output channels (each process builds its own: the gateway for pushes
and receipts, every worker thread for inbox replies)."""

from __future__ import annotations

from channels.base import OutputChannel
from channels.config import ChannelSettings
from channels.telegram import TelegramOutput


def build_outputs(settings: ChannelSettings, *, public_base_url: str) -> dict[str, OutputChannel]:
    outputs: dict[str, OutputChannel] = {}
    if settings.twilio_account_sid and settings.twilio_auth_token:
        from channels.twilio import CONFIG, TwilioOutput, WhatsAppTemplates

        status_url = public_base_url.rstrip("/") + "/channels/twilio/status"
        for channel, sender in (("sms", settings.twilio_sms_from), ("whatsapp", settings.twilio_whatsapp_from)):
            if sender:
                outputs[channel] = TwilioOutput(
                    channel=channel,  # type: ignore[arg-type]
                    account_sid=settings.twilio_account_sid,
                    auth_token=settings.twilio_auth_token.get_secret_value(),
                    from_number=sender,
                    status_callback_url=status_url,
                    templates=WhatsAppTemplates.load(CONFIG),
                    api_base=settings.twilio_api_base,
                )
    if settings.telegram_bot_token:
        outputs["telegram"] = TelegramOutput(
            settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_base_url
        )
    return outputs
