"""Card numbers are redacted once, where a message enters: an `InboundMessage` never holds one,
whichever channel made it, so the inbox, the transcript, the logs and Rasa only see the marker."""

from __future__ import annotations

from datetime import UTC, datetime

from channels.base import InboundMessage
from core.pii.cards import MARKER


def inbound(text: str) -> InboundMessage:
    return InboundMessage(channel="sms", sender="+46700000932", text=text, received_at=datetime.now(UTC))


def test_the_message_holds_the_marker_not_the_card() -> None:
    message = inbound("my card is 4242 4242 4242 4242, can I pay?")
    assert message.text == f"my card is {MARKER}, can I pay?" and message.cards_found


def test_a_card_hidden_by_invisible_characters_is_found_after_sanitising() -> None:
    # U+2063 (invisible separator) is not a separator the card detector knows: sanitising drops it first.
    message = inbound("4242\u20634242\u20634242\u20634242")
    assert message.text == MARKER and "4242" not in message.text


def test_ordinary_text_is_only_sanitised_and_redacting_again_changes_nothing() -> None:
    message = inbound("  Hej,\nkan jag\tbetala 500 kr?  ")
    assert message.text == "Hej, kan jag betala 500 kr?" and not message.cards_found
    again = InboundMessage(channel="sms", sender=message.sender, text=message.text, received_at=message.received_at)
    assert again == message
