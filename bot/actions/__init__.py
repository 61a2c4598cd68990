"""The rasa_sdk action server: `python -m rasa_sdk --actions bot.actions` loads every module here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.logging import configure_logging


def _action_server_level() -> int | None:
    """The level `python -m bot.action_server` (or `-m rasa_sdk`) was started with (--quiet, -v,
    -vv); None when this package was imported by something else (tests). Sanic's worker process,
    which imports the package again, keeps the command line, so both processes log the same way."""
    started_as = Path(sys.argv[0]) if sys.argv else Path()
    if started_as.parent.name != "rasa_sdk" and started_as.name != "action_server.py":  # bot/action_server.py
        return None
    from rasa_sdk.endpoint import create_argument_parser

    arguments, _ = create_argument_parser().parse_known_args(sys.argv[1:])
    return int(arguments.loglevel)


if (_level := _action_server_level()) is not None:
    configure_logging(level=os.environ.get("LOG_LEVEL") or _level, service="actions")
