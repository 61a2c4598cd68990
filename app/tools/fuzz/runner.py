"""Schemathesis over every operation of the gateway's OpenAPI schema, in process (ASGI).

The run is schemathesis' own engine (examples, coverage and fuzzing phases; positive and negative
inputs), with these checks: no server error; status code, content type, response body and headers
as the schema documents them; input the schema forbids is refused with a 4xx. 502/503 pass
`not_a_server_error` because they are how the gateway says an upstream (Rasa, the trainer) is
unavailable, and only where the route documents them (status_code_conformance); a 500 always fails.

Staff routes are called as a logged-in admin (cookie + X-CSRF-Token). Operations that end the
session (logout) get a fresh login per call; if the fuzzer deactivates its own account, the
account is reactivated and logged in again, so every later case still runs authenticated.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import schemathesis
from schemathesis import BaseSchema, engine
from schemathesis.engine import events
from schemathesis.python import asgi

from app.tools.fuzz.seed import dictionaries
from app.tools.fuzz.target import Target, reactivate
from people.auth.deps import CSRF_HEADER, STAFF_COOKIE

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",  # input the schema forbids must be refused (4xx), not half-understood
    "missing_required_header",
)
# Operations in the schema that are not fuzzed, and why (pages, static files and the WebSocket
# /webchat/ws are not in the OpenAPI schema at all: include_in_schema=False / FastAPI).
EXCLUDED = {
    "GET /agent/api/events": "Server-Sent Events: the stream never ends for a logged-in client",
}
# Explicit examples, boundary values and negative variants (coverage), then random generation.
# The stateful phase needs OpenAPI links, which the schema does not declare.
PHASES = ("examples", "coverage", "fuzzing")
LOGOUT = "POST /agent/api/logout"
DEACTIVATE = "POST /agent/api/staff/{user_id}/deactivate"


@dataclass
class Problem:
    check: str
    status: int | None
    title: str
    message: str
    curl: str

    @property
    def key(self) -> tuple[str, int | None, str, str]:
        return self.check, self.status, self.title, self.message.splitlines()[0] if self.message else ""


@dataclass
class Operation:
    label: str
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)  # what the route really answered
    problems: list[Problem] = field(default_factory=list)

    @property
    def failures(self) -> int:
        """Distinct failures (same check, status and message count once)."""
        return len({p.key for p in self.problems})


@dataclass
class Report:
    operations: dict[str, Operation]
    excluded: dict[str, str]
    seconds: float
    max_examples: int
    seed: int
    errors: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return sum(op.cases for op in self.operations.values())

    @property
    def failures(self) -> int:
        return sum(op.failures for op in self.operations.values()) + len(self.errors)


class Login:
    """The admin's console session; renewed when an operation ended it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.lock = threading.Lock()
        self.cookie, self.csrf = self.fresh()

    def fresh(self) -> tuple[str, str]:
        with asgi.get_client(cast(Any, self.target.app)) as client:
            response = client.post(
                "/agent/api/login", json={"username": self.target.username, "password": self.target.password}
            )
        if response.status_code != 200:
            raise RuntimeError(f"fuzz admin cannot log in: {response.status_code} {response.text}")
        return str(response.cookies[STAFF_COOKIE]), str(response.json()["csrf_token"])

    def renew(self) -> None:
        with self.lock:
            asyncio.run(reactivate(self.target.settings, self.target.admin_id))
            self.cookie, self.csrf = self.fresh()


def _configure(schema: Any, login: Login) -> None:
    @schema.auth(refresh_interval=None)
    class StaffAuth:
        def get(self, case: Any, context: Any) -> tuple[str, str]:
            if case.operation.label == LOGOUT:
                return login.fresh()  # a session of its own to end
            return login.cookie, login.csrf

        def set(self, case: Any, data: tuple[str, str], context: Any) -> None:
            cookie, csrf = data
            case.cookies = {**(case.cookies or {}), STAFF_COOKIE: cookie}
            case.headers = {**(case.headers or {}), CSRF_HEADER: csrf}
            nlg_token = login.target.settings.nlg_token
            if case.operation.path == "/nlg" and nlg_token:  # Rasa's token (bot/endpoints.yml)
                case.headers["Authorization"] = f"Bearer {nlg_token.get_secret_value()}"

    @schema.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        if case.operation.label != DEACTIVATE or response.status_code != 200:
            return
        if str((case.path_parameters or {}).get("user_id")) == str(login.target.admin_id):
            login.renew()


def _config(target: Target, *, max_examples: int, seed: int, workers: int, phases: tuple[str, ...]) -> Any:
    checks: dict[str, Any] = {"enabled": False, **{name: {"enabled": True} for name in CHECKS}}
    checks["not_a_server_error"]["expected-statuses"] = ["1xx", "2xx", "3xx", "4xx", "502", "503"]
    known, parameters = dictionaries(target.state, admin_id=target.admin_id)
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "dictionaries": known,
            "parameters": parameters,
            "workers": workers,
            "request-timeout": 30,
            "generation": {"max-examples": max_examples},
            "checks": checks,
            "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
        }
    )


def _problems(recorder: Any) -> Iterable[Problem]:
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            failure = check.failure_info.failure
            curl = recorder.cases[case_id].value.as_curl_command() if case_id in recorder.cases else ""
            yield Problem(
                check=check.name,
                status=response.status_code if response is not None else None,
                title=failure.title,
                message=str(failure.message or ""),
                curl=curl,
            )


def run(
    target: Target,
    *,
    max_examples: int = 50,
    seed: int = 1,
    workers: int = 1,
    only: str | None = None,
    phases: tuple[str, ...] = PHASES,
) -> Report:
    """Fuzz every documented operation (or those whose "METHOD /path" matches `only`)."""
    login = Login(target)
    schema: BaseSchema = schemathesis.openapi.from_asgi(
        "/openapi.json",
        target.app,
        config=_config(target, max_examples=max_examples, seed=seed, workers=workers, phases=phases),
    )
    for label in EXCLUDED:
        method, path = label.split(" ", 1)
        schema = schema.exclude(method=method, path=path)
    if only:
        pattern = re.compile(only)
        schema = schema.include(lambda ctx: bool(pattern.search(ctx.operation.label)))
    _configure(schema, login)
    operations: dict[str, Operation] = {}
    errors: list[str] = []
    started = time.monotonic()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            op = operations.setdefault(event.recorder.label, Operation(event.recorder.label))
            op.cases += len(event.recorder.cases)
            op.seconds += event.elapsed_time
            op.statuses.update(
                i.response.status_code for i in event.recorder.interactions.values() if i.response is not None
            )
            op.problems.extend(_problems(event.recorder))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    return Report(
        operations=dict(sorted(operations.items())),
        excluded=dict(EXCLUDED),
        seconds=time.monotonic() - started,
        max_examples=max_examples,
        seed=seed,
        errors=errors,
    )
