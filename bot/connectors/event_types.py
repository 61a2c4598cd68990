"""Rasa 3.6 turns every stored event back into its class with `Event.resolve_by_type`, which walks
all subclasses of `Event` (recursively, with `inspect.isabstract` on each) for every event of
every tracker it reads: ~10 % of our Rasa's CPU in the benchmark profile (tools/bench --profile),
since the in-memory tracker store deserialises the whole conversation on each message. Here a
type name found once maps straight to its class; a name not found still takes Rasa's own path
(so it raises or falls back exactly as before, and a subclass defined later is still found).
Applied when the gateway connector is loaded (bot/credentials.yml), so only our Rasa process.
"""

from __future__ import annotations

from typing import Dict, Optional, Text, Type

from rasa.shared.core.events import Event

_original = Event.resolve_by_type
_known: Dict[Text, Type[Event]] = {}


def _resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    found = _known.get(type_name)
    if found is not None:
        return found
    cls = _original(type_name, default)
    if cls is not None and getattr(cls, "type_name", None) == type_name:
        _known[type_name] = cls
    return cls


def install() -> None:
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign,assignment]
