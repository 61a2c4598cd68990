"""Operational commands: `python -m app.manage migrate|seed|check-db`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from alembic import command
from alembic.config import Config

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from app.config import ROOT, get_settings
from app.database import make_engine, make_sessionmaker
from debtors.seed import seed_demo


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")


async def seed(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            added = await seed_demo(session=session)
            await session.commit()
            return added
    finally:
        await engine.dispose()


async def telegram_poll() -> None:
    """Local development without a public URL: Telegram updates by long polling go into the same
    inbox as webhook updates (and the worker answers them). Ctrl-C stops."""
    from channels.base import InboundMessage
    from channels.telegram import run_polling
    from inbox import service as inbox_service
    from inbox import worker

    settings = get_settings()
    if settings.telegram_bot_token is None:
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set")
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)

    async def on_message(message: InboundMessage, _callback_query_id: str | None) -> None:
        async with sessionmaker() as session:
            event = await inbox_service.accept(session=session, message=message)
            await session.commit()
        if event is not None:
            await worker.enqueue(event.conversation_id)

    stop = asyncio.Event()
    try:
        await run_polling(
            token=settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_base_url,
            on_message=on_message,
            stop=stop,
        )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.manage")
    parser.add_argument("command", choices=["migrate", "seed", "telegram-poll"])
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL") or get_settings().database_url
    if args.command == "telegram-poll":
        asyncio.run(telegram_poll())
    elif args.command == "migrate":
        migrate(url)
    else:
        added = asyncio.run(seed(url))
        print(f"demo data: {added} debtor(s) added", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
