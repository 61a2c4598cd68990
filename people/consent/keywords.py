"""Opt-out and opt-in keywords (carrier-standard plus our locales'), matched on the whole message.

Recognition vocabulary, not user-facing text.
"""

from __future__ import annotations

import re

from people.identity.dates import fold

STOP_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "opt-out", "opt out"}
    | {"stopp", "avsluta"}  # sv
    | {"abmelden"}  # de (STOPP above)
    | {"parar", "sair", "cancelar"}  # pt
)
START_WORDS = frozenset({"start", "unstop", "yes start", "starta", "iniciar"})


def _normalise(text: str) -> str:
    return re.sub(r"[\s.!]+$", "", re.sub(r"^\s+", "", fold(text))).strip()


def is_stop(text: str) -> bool:
    return _normalise(text) in STOP_WORDS


def is_start(text: str) -> bool:
    return _normalise(text) in START_WORDS
