"""The rasa_sdk action server: `python -m rasa_sdk --actions bot.actions` loads every module here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.logging import configure_logging


def _action_server_level() -> int | None:
    """The level `python -m rasa_sdk` was started with (--quiet, -v, -vv); None when this package
    was imported by something else (tests). Sanic's worker process, which imports the package
    again, keeps the command line, so both processes log the same way."""
    if not sys.argv or Path(sys.argv[0]).parent.name != "rasa_sdk":
        return None
    from rasa_sdk.endpoint import create_argument_parser

    arguments, _ = create_argument_parser().parse_known_args(sys.argv[1:])
    return int(arguments.loglevel)


if (_level := _action_server_level()) is not None:
    configure_logging(level=os.environ.get("LOG_LEVEL") or _level, service="actions")
