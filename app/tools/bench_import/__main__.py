"""`make bench-import [ROWS=100000]` -> reports/bench-import.json: a generated portfolio (two debts
per debtor, phone numbers in Ofcom's drama range, consents) imported into a fresh, migrated
SQLite file and a fresh PostgreSQL database, then imported again (nothing changes: the upsert
path). A benchmark, not a test: it reports, it does not fail on a number. Beside the wall time it
reports this process's CPU time (SQLite works inside it; PostgreSQL's server does not) and the
load average, so a number taken on a busy shared machine can be read for what it is."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from app import models as _all_models  # noqa: F401 - every table known to the ORM
from app.manage import migrate
from core.database import make_engine, make_sessionmaker
from people.portfolio import service

PG_ADMIN = "postgresql://127.0.0.1:5432/test"
HEADER = "creditor,reference,first_name,last_name,date_of_birth,country,language,phone,email,principal,fees,interest,currency,due_date,sms_consent,whatsapp_opt_in"


def portfolio(rows: int) -> bytes:
    out = io.StringIO()
    out.write(HEADER + "\n")
    for i in range(rows):
        person = i // 2
        born = f"19{50 + person % 50:02d}-{1 + person % 12:02d}-{1 + person % 28:02d}"
        out.write(
            f"Bench Creditor {person % 3},BC-{i:08d},Bench,Person{person},{born},GB,en,07700 900{person % 1000:03d},"
            f"p{person}@example.org,{100 + i % 900}.{i % 100:02d},15.00,{i % 7}.50,GBP,2027-{1 + i % 12:02d}-15,yes,no\n"
        )
    return out.getvalue().encode()


async def fresh_postgres(admin_dsn: str, name: str) -> str:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return admin_dsn.rsplit("/", 1)[0] + f"/{name}"


async def measure(url: str, data: bytes, rows: int) -> dict[str, Any]:
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    result: dict[str, Any] = {"rows": rows}
    try:
        for label in ("first_import", "reimport"):
            started, cpu = time.perf_counter(), time.process_time()
            report = await service.run(
                sessionmaker=make_sessionmaker(engine), data=data, filename="bench.csv", source="cli"
            )
            seconds = time.perf_counter() - started
            result[label] = {
                "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
                "process_cpu_seconds": round(time.process_time() - cpu, 2),
                "load_average_1m": round(os.getloadavg()[0], 1), **report.counts(),
            }  # fmt: skip
    finally:
        await engine.dispose()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app.tools.bench_import")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres-admin", default=PG_ADMIN, help="a database to create the bench database from")
    parser.add_argument("--out", type=Path, default=Path("reports/bench-import.json"))
    args = parser.parse_args()
    data = portfolio(args.rows)
    results: dict[str, Any] = {
        "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await measure(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", data, args.rows)
        print(json.dumps({"sqlite": results["sqlite"]}), flush=True)
    try:
        url = await fresh_postgres(args.postgres_admin, "debtor_assistant_bench_import")
    except (OSError, asyncpg.PostgresError) as exc:
        results["postgresql"] = {"skipped": f"no PostgreSQL at {args.postgres_admin}: {exc}"}
    else:
        results["postgresql"] = await measure(url, data, args.rows)
    print(json.dumps({"postgresql": results["postgresql"]}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
