"""The action server, as `python -m rasa_sdk` runs it, but on loopback and behind a token.

The actions trust the tracker they are sent (`verified`, the reference, the amounts), so only Rasa
may call them: every request except `GET /health` (the gateway's probe) needs
`Authorization: Bearer <ACTION_SERVER_TOKEN>` (Rasa sends it, bot/endpoints.yml) and gets 401
without it. The server binds 127.0.0.1 unless `--host` says otherwise (docker-compose: the
compose network, never a published port). rasa_sdk's own options (`-p`, `--endpoints`,
`--quiet`, `-v`, `--cors`, TLS) work as before; `--grpc` is refused (it has no token check).

    python -m bot.action_server --actions bot.actions -p 5055 [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from app import models as _all_models  # noqa: F401 - every table known to the ORM before the first query
from bot.actions.settings import get_settings
from core.internal_tokens import bearer, token_matches

logger = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
OPEN_PATHS = frozenset({"/health"})


def require_token(app: Sanic) -> None:
    """Refuse every request but the health probe without the shared token (401)."""
    expected = get_settings().action_server_token

    @app.on_request
    async def _check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if token_matches(bearer(request.headers.get("authorization")), expected):
            return None
        return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})


def create_secured_app(action_executor: ActionExecutor, **options: Any) -> Sanic:
    """rasa_sdk's app (plugins, tracing, keep-alive) with the token check in front. Module level:
    Sanic's worker process builds the app again from this factory."""
    app = create_app_for_serve(action_executor, **options)
    require_token(app)
    return app


def parser() -> argparse.ArgumentParser:
    arguments = create_argument_parser()
    arguments.add_argument("--host", default=DEFAULT_HOST, help=f"interface to bind (default {DEFAULT_HOST})")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.grpc:
        raise SystemExit("--grpc is not supported: the gRPC server has no token check")
    if get_settings().action_server_token is None:
        raise SystemExit("ACTION_SERVER_TOKEN is not set (make run generates it in var/secrets.env)")
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    loader = AppLoader(
        factory=partial(
            create_secured_app, executor, cors_origins=args.cors, auto_reload=args.auto_reload, endpoints=args.endpoints
        )
    )
    app = loader.load()
    ssl = create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("Action endpoint on %s://%s:%s (token required)", "https" if ssl else "http", args.host, args.port)
    app.prepare(host=args.host, port=args.port, ssl=ssl, workers=utils.number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
