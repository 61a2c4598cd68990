"""Operational commands: `python -m app.manage migrate|seed [--demo]|create-staff|telegram-poll|import-portfolio|export-activity|check-config|install-model`.

`migrate` only upgrades the schema: the demo debtors and the demo admin come from `seed --demo`
alone (`make run` does it), never from a deployment's migrate step, so production never holds the
published demo people nor an admin whose password sits in a file; its first admin is made with
`create-staff --role admin`. The commands read the settings without the production profile's
refusal (core/profile.py): `check-config` reports it, `migrate` and `create-staff` set a
deployment up before it can pass."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from app.config import GatewaySettings, get_settings
from backoffice.training.data import point_active
from core.config import ROOT
from core.database import make_engine, make_sessionmaker, utcnow
from core.logging import configure_logging, configured
from money.outreach import service as outreach_service
from people.auth import passwords
from people.auth import service as auth_service
from people.auth.models import Role, StaffUser
from people.debtors.seed import seed_demo
from people.portfolio import activity
from people.portfolio import service as portfolio_service
from people.portfolio.reader import Unreadable

DEMO_ADMIN = "admin@example.org"
# Where `seed` writes the demo admin's password (override with CONSOLE_CREDENTIALS_FILE, e.g. in tests).
CREDENTIALS_FILE = ROOT / "var" / "console-credentials.txt"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    # alembic.ini's console handler would replace our JSON one (migrations/env.py honours this).
    config.attributes["skip_logging"] = configured()
    return config


def migrate(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")


@dataclass(frozen=True)
class Seeded:
    debtors: int  # demo debtors added (0 without --demo)
    admin_password: str | None  # set only when the demo admin was created just now (--demo only)


async def seed_admin(*, session: AsyncSession) -> str | None:
    """The demo's first admin for the agent console when there is no staff account at all (so
    `make run` users can log in to /agent); returns its random password, or None when staff
    already exist. Only `seed --demo` makes it: a deployment's first admin is `create-staff`'s."""
    if await session.scalar(select(func.count()).select_from(StaffUser)):
        return None
    password = passwords.generate(username=DEMO_ADMIN)  # random, and what the password policy accepts
    await auth_service.create_user(
        session=session, username=DEMO_ADMIN, password=password, display_name="Demo admin", role=Role.ADMIN
    )
    return password


def write_credentials(path: Path, username: str, password: str) -> None:
    """Owner-only from the first byte (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(f"agent console: /agent\nusername: {username}\npassword: {password}\n")
    path.chmod(0o600)


async def seed(database_url: str, *, demo: bool = False) -> Seeded:
    """With `demo`: the demo debtors, and the demo admin into an empty staff table; without it,
    nothing (a deployment holds no demo data). Idempotent: existing debtors and staff are kept."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            added = await seed_demo(session=session) if demo else 0
            password = await seed_admin(session=session) if demo else None
            await session.commit()
            return Seeded(debtors=added, admin_password=password)
    finally:
        await engine.dispose()


def staff_password() -> str:
    """STAFF_PASSWORD or a file named by STAFF_PASSWORD_FILE (scripts), else asked twice without echo."""
    password = os.environ.get("STAFF_PASSWORD")
    if password:
        return password
    if path := os.environ.get("STAFF_PASSWORD_FILE"):
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    password = getpass.getpass("Password (12+ characters, not containing the username, not a common one): ")
    if getpass.getpass("Repeat password: ") != password:
        raise SystemExit("passwords do not match")
    return password


async def create_staff(database_url: str, *, username: str, display_name: str, role: Role, password: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            try:
                user = await auth_service.create_user(
                    session=session, username=username, password=password, display_name=display_name, role=role
                )
            except auth_service.AuthError as exc:
                raise SystemExit(f"cannot create staff user: {exc.code}") from exc
            await session.commit()
            return user.id
    finally:
        await engine.dispose()


async def import_portfolio(database_url: str, path: Path) -> int:
    """Exit status: 0 every row applied, 2 some rows refused (each printed: file:line: column: reason),
    1 the file cannot be read (nothing applied). The counts go to stdout as JSON."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    engine = make_engine(database_url)
    bar = tqdm(total=data.count(b"\n") or 1, unit="line", file=sys.stderr, disable=None)  # only on a terminal
    try:
        report = await portfolio_service.run(
            sessionmaker=make_sessionmaker(engine),
            data=data,
            filename=path.name,
            source="cli",
            progress=lambda line: bar.update(max(0, line - bar.n)),
        )
    except Unreadable as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        await engine.dispose()
    for column in report.ignored_columns:
        print(f"warning: column {column!r} is not part of the format: ignored", file=sys.stderr)
    for problem in report.problems:
        print(f"{path.name}:{problem.line}: {problem.column or '-'}: {problem.reason}", file=sys.stderr)
    print(json.dumps({"import": report.run_id, **report.counts()}))
    return 2 if report.rejected else 0


async def export_activity(database_url: str, *, since: datetime, until: datetime, out: Path | None) -> int:
    """The events in [since, until) as CSV into `out` (or stdout). The summary (rows, since, until:
    the next run's --since) is JSON on stdout after a file, on stderr after CSV on stdout."""
    window = activity.window(since, until)
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            found = await activity.rows(session=session, window=window)
    finally:
        await engine.dispose()
    summary = {"rows": len(found), "since": window.since.isoformat(), "until": window.until.isoformat()}
    if out is None:
        activity.write(sys.stdout, found)
        print(json.dumps(summary), file=sys.stderr)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as file:
        activity.write(file, found)
    print(json.dumps({**summary, "out": str(out)}))
    return 0


async def outreach_plan(database_url: str, *, at: datetime, out: Path) -> int:
    """First contact as it would go at `at`, one decision per open debt, into `out` (nothing sent)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            decisions = await outreach_service.plan(session=session, now=at)
    finally:
        await engine.dispose()
    outreach_service.write_report(decisions, out)
    counts: dict[str, int] = {}
    for decision in decisions:
        counts[decision.action] = counts.get(decision.action, 0) + 1
    print(json.dumps({"at": at.isoformat(), "debts": len(decisions), **counts, "out": str(out)}))
    return 0


def _moment(text: str) -> datetime:
    try:
        return activity.moment(text)
    except activity.BadMoment:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time (e.g. 2026-05-01T00:00:00Z): {text!r}") from None


def install_model(model: Path, models_dir: Path, *, replace: bool) -> str:
    """A model trained elsewhere (`make train`, where Rasa is installed) into the models folder Rasa
    starts from (var/models/active.tar.gz; compose shares it read-only with every Rasa): only when
    there is no active model yet, unless `replace`. Returns what happened."""
    link = models_dir / "active.tar.gz"
    if link.exists() and not replace:
        return f"kept {link} -> {link.resolve().name}"
    if not model.is_file():
        raise SystemExit(f"no model at {model} (make train builds it)")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
    target = models_dir / f"installed-{digest}.tar.gz"
    models_dir.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copy2(model, target)
    point_active(models_dir, target)
    return f"{link} -> {target.name}"


async def telegram_poll() -> None:
    """Local development without a public URL: Telegram updates by long polling go into the same
    inbox as webhook updates (and the worker answers them). Ctrl-C stops."""
    from app import worker
    from channels.base import InboundMessage
    from channels.telegram import run_polling
    from engine.inbox import service as inbox_service

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
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the database schema")
    seeding = commands.add_parser("seed", help="--demo: the demo debtors and admin (make run only)")
    seeding.add_argument("--demo", action="store_true", help="also the demo debtors (make run; never in production)")
    commands.add_parser("telegram-poll", help="Telegram by long polling (no public URL needed)")
    staff = commands.add_parser(
        "create-staff", help="add an agent console user; password from STAFF_PASSWORD or a prompt"
    )
    staff.add_argument("--username", required=True)
    staff.add_argument("--display-name", required=True)
    staff.add_argument("--role", choices=[role.value for role in Role], default=Role.AGENT.value)
    importing = commands.add_parser("import-portfolio", help="debtors and debts from a CSV (or .jsonl) file")
    importing.add_argument("path", type=Path)
    exporting = commands.add_parser("export-activity", help="what happened since a time, as CSV per creditor reference")
    exporting.add_argument("--since", type=_moment, required=True, help="ISO 8601, inclusive (no offset: UTC)")
    exporting.add_argument("--until", type=_moment, help="ISO 8601, exclusive (default: now)")
    exporting.add_argument("--out", type=Path, help="a CSV file to write (default: stdout)")
    outreach = commands.add_parser("outreach-plan", help="first contact per open debt at a time, without sending")
    outreach.add_argument("--at", type=_moment, help="ISO 8601 (no offset: UTC; default: now)")
    outreach.add_argument("--out", type=Path, default=ROOT / "reports" / "outreach-plan.json")
    commands.add_parser("check-config", help="every problem with this configuration; exit 1 if any")
    installing = commands.add_parser("install-model", help="a trained model becomes the one Rasa starts with")
    installing.add_argument("path", type=Path)
    installing.add_argument("--replace", action="store_true", help="also when there is an active model already")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        from app import checkconfig  # it uses this module's alembic_config

        return checkconfig.main()
    if args.command == "install-model":
        print(install_model(args.path, GatewaySettings().training_models_dir, replace=args.replace))
        return 0
    url = os.environ.get("DATABASE_URL") or GatewaySettings().database_url
    if args.command == "export-activity":
        until = args.until or utcnow()
        if args.since > until:
            parser.error("--since is after --until")
        out = None if args.out is None or str(args.out) == "-" else args.out
        return asyncio.run(export_activity(url, since=args.since, until=until, out=out))
    if args.command == "outreach-plan":
        return asyncio.run(outreach_plan(url, at=args.at or utcnow(), out=args.out))
    if args.command == "import-portfolio":
        return asyncio.run(import_portfolio(url, args.path))
    if args.command == "telegram-poll":
        asyncio.run(telegram_poll())
    elif args.command == "migrate":
        migrate(url)
    elif args.command == "create-staff":
        user_id = asyncio.run(
            create_staff(
                url,
                username=args.username,
                display_name=args.display_name,
                role=Role(args.role),
                password=staff_password(),
            )
        )
        print(f"staff user {auth_service.normalize_username(args.username)} ({args.role}) created, id {user_id}")
    else:
        seeded = asyncio.run(seed(url, demo=args.demo))
        if args.demo:
            print(f"demo data: {seeded.debtors} debtor(s) added", file=sys.stderr)
        else:
            print("nothing seeded without --demo; the first admin: create-staff --role admin", file=sys.stderr)
        if seeded.admin_password is not None:
            path = Path(os.environ.get("CONSOLE_CREDENTIALS_FILE") or CREDENTIALS_FILE)
            write_credentials(path, DEMO_ADMIN, seeded.admin_password)
            print(
                "\n"
                "  Agent console admin created (shown once):\n"
                f"    username: {DEMO_ADMIN}\n"
                f"    password: {seeded.admin_password}\n"
                f"  Also saved to {path} (owner-only). Add staff: python -m app.manage create-staff --help\n",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    configure_logging(service="manage")
    raise SystemExit(main())
