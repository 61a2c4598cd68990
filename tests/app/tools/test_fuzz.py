"""`make fuzz` (tools/fuzz) kept working: a short schemathesis run over every operation finds
nothing, an undocumented status is caught, and the report prints what was tried.

One fuzz target (fresh SQLite database, seeded, an admin logged in) for the module; the full run
(`make fuzz`: examples, coverage and fuzzing phases, 50 examples each) takes a few minutes, this
one only the random phase with a few examples per operation."""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from collections.abc import Iterator
from typing import Any, cast

import pytest
from schemathesis.python import asgi
from sqlalchemy import update

from app.tools.fuzz import cli, runner, target
from app.tools.fuzz.runner import Operation, Problem, Report
from core.database import make_engine, make_sessionmaker
from people.auth.deps import STAFF_COOKIE
from people.auth.models import StaffUser


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[target.Target]:
    built = target.build(tmp_path_factory.mktemp("fuzz"))
    yield built
    target.close(built)


def test_a_short_run_over_every_operation_finds_nothing(fuzzed: target.Target) -> None:
    report = runner.run(fuzzed, max_examples=4, seed=7, phases=("fuzzing",))
    print(cli.table(report))
    assert report.failures == 0, cli.details(report)
    schema = fuzzed.app.openapi()["paths"]
    documented = {f"{method.upper()} {path}" for path, ops in schema.items() for method in ops}
    assert set(report.operations) == documented - set(runner.EXCLUDED)
    assert all(op.cases > 0 for op in report.operations.values())
    # Logged in: staff routes answered something other than 401 (the cookie and CSRF header work).
    assert report.operations["GET /agent/api/queue"].statuses[200] > 0
    assert report.operations["GET /agent/api/admin/gdpr/retention"].statuses[200] > 0
    # The seeded conversations are used: an agent route got past "not found".
    assert report.operations["GET /agent/api/conversations/{conversation_id}"].statuses[200] > 0


def test_an_undocumented_status_is_a_failure(fuzzed: target.Target) -> None:
    label = "GET /agent/api/conversations/{conversation_id}"
    schema = copy.deepcopy(fuzzed.app.openapi())
    del schema["paths"]["/agent/api/conversations/{conversation_id}"]["get"]["responses"]["404"]
    fuzzed.app.openapi_schema = schema  # what /openapi.json serves (FastAPI's cache)
    try:
        report = runner.run(fuzzed, max_examples=10, seed=3, phases=("fuzzing",), only="^GET /agent/api/conv")
    finally:
        fuzzed.app.openapi_schema = None  # generated again from the routes
    assert list(report.operations) == [label]
    assert report.operations[label].statuses[404] > 0
    assert any(p.check == "status_code_conformance" and p.status == 404 for p in report.operations[label].problems)
    assert report.failures >= 1


def test_the_fuzzer_gets_its_account_back_after_deactivating_itself(fuzzed: target.Target) -> None:
    login = runner.Login(fuzzed)

    def me(cookie: str) -> int:
        with asgi.get_client(cast(Any, fuzzed.app)) as client:
            return int(client.get("/agent/api/me", cookies={STAFF_COOKIE: cookie}).status_code)

    async def deactivate() -> None:
        engine = make_engine(fuzzed.settings.database_url)
        async with make_sessionmaker(engine)() as session:
            await session.execute(update(StaffUser).where(StaffUser.id == fuzzed.admin_id).values(active=False))
            await session.commit()
        await engine.dispose()

    asyncio.run(deactivate())
    assert me(login.cookie) == 401
    login.renew()
    assert me(login.cookie) == 200


def test_the_report_prints_cases_and_failures_per_operation_and_in_total() -> None:
    problem = Problem("not_a_server_error", 500, "Server error", "boom", "curl -X GET http://testserver/x")
    report = Report(
        operations={
            "GET /x": Operation("GET /x", cases=7, statuses=Counter({200: 5, 500: 2}), problems=[problem, problem]),
            "POST /y": Operation("POST /y", cases=3, statuses=Counter({422: 3})),
        },
        excluded={"GET /events": "a stream"},
        seconds=1.0,
        max_examples=5,
        seed=1,
    )
    lines = cli.table(report).splitlines()
    assert lines[1].split()[:4] == ["GET", "/x", "7", "1"] and "200x5 500x2" in lines[1]
    assert "excluded: a stream" in lines[3]
    assert lines[-1].split() == ["total", "10", "1"]
    assert "FAIL GET /x: not_a_server_error (HTTP 500)" in cli.details(report)
    numbers = cli.as_json(report)
    assert (numbers["cases"], numbers["failures"]) == (10, 1)
    assert numbers["operations"]["GET /x"] == {"cases": 7, "failures": 1, "statuses": {200: 5, 500: 2}}
