"""Start the real processes (Rasa, action server, gateway) on free ports for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from core import internal_tokens
from tests.stack_env import (  # noqa: F401 - SMS_NUMBER, WHATSAPP_NUMBER, fake_provider_env: imported from here too
    REDIS,
    SANDBOX_ON,
    SMS_NUMBER,
    STACK_RATE_LIMITS,
    WHATSAPP_NUMBER,
    fake_provider_env,
)
from tests.webchat import WebchatClient, conversation_key, digest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "debtor.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


@contextmanager
def work_folder(path: Path | None, *, prefix: str) -> Iterator[Path]:
    """`path` (created if missing) or a temporary folder removed on exit."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """Rasa, the action server, the gateway and the inbox worker as `make run` starts them (one
    Rasa, in-memory trackers, SQLite queue, demo data); the options below start them as
    docker-compose.yml does instead (tests/e2e/test_topology.py uses them all)."""

    workdir: Path
    database_url: str
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    # This stack's own internal service tokens (app/internal_tokens.py), as `make run` makes them.
    tokens: dict[str, str] = field(default_factory=internal_tokens.generate)
    # Rasa instances behind the gateway's and the worker's consistent-hash routing (RASA_URLS):
    # "rasa", then "rasa-2", "rasa-3", ... (`make run RASA_INSTANCES=N`, compose's rasa-1, rasa-2).
    rasa_instances: int = 1
    # Rasa's SQL tracker store (a SQLAlchemy URL): Rasa runs bot/endpoints-sharded.yml, its locks in
    # Redis db `lock_db` (required then); the gateway erases from the same store.
    tracker_store_url: str | None = None
    lock_db: int | None = None
    # The inbox queue (HUEY_REDIS_URL) and the rate-limit counters in these Redis dbs, not in
    # SQLite and in memory.
    queue_db: int | None = None
    rate_limit_db: int | None = None
    demo_data: bool = True  # prepare_database seeds the demo debtors (compose's migrate does not)
    # The production profile (core/profile.py) with this https PUBLIC_BASE_URL (tests call the
    # gateway on loopback: `public_url` is what providers would call), no payments sandbox; up()
    # waits for /health/ready as compose's healthcheck does.
    production_url: str | None = None
    _chat: WebchatClient | None = field(default=None, init=False, repr=False)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def public_url(self) -> str:
        """PUBLIC_BASE_URL: what Twilio signs its webhooks with and debtors' links start with."""
        return self.production_url or self.gateway_url

    @property
    def rasa_names(self) -> list[str]:
        return ["rasa", *(f"rasa-{n}" for n in range(2, self.rasa_instances + 1))]

    def rasa_url(self, name: str = "rasa") -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def rasa_auth(self) -> dict[str, str]:
        """Query parameters for Rasa's HTTP API (`--auth-token`) and its channels."""
        return {"token": self.tokens["RASA_AUTH_TOKEN"]}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PRIVACY_HASH_KEY", None)  # in-process tests set one (tests/conftest.py); processes share the file
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=self.database_url,
            RASA_URL=self.rasa_url(),
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.ports['actions']}",
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.ports['actions']}/webhook",
            NLG_ENDPOINT_URL=f"http://127.0.0.1:{self.ports['gateway']}/nlg",
            GATEWAY_PORT=str(self.ports["gateway"]),
            PUBLIC_BASE_URL=f"http://127.0.0.1:{self.ports['gateway']}",
            SANDBOX_SECRET_FILE=str(self.workdir / "sandbox-webhook-secret"),
            HUEY_FILE=str(self.workdir / "huey.db"),
            WORKER_METRICS_PORT="0",  # several stacks run at once: no fixed metrics port
            HUEY_IMMEDIATE="false",
            CONSOLE_CREDENTIALS_FILE=str(self.workdir / "console-credentials.txt"),
            TRAINING_MODELS_DIR=str(self.workdir / "models"),
            PRIVACY_HASH_KEY_FILE=str(self.workdir / "privacy-hash-key"),  # not the repo's var/
            ASSISTANT_ENV="test",  # SQLite and http on loopback (core/profile.py)
            **self.tokens,
            **STACK_RATE_LIMITS,
            **SANDBOX_ON,
            RASA_TELEMETRY_ENABLED="false",
        )
        env.update(self.topology_env())
        env.update(self.extra_env)  # extra_env may lower a limit to test it, or say otherwise
        return env

    def topology_env(self) -> dict[str, str]:
        """What the options add: compose's settings, pointed at this machine's services."""
        env: dict[str, str] = {}
        if self.rasa_instances > 1:
            env["RASA_URLS"] = ",".join(self.rasa_url(name) for name in self.rasa_names)
        if self.tracker_store_url:
            if self.lock_db is None:
                raise ValueError("a SQL tracker store goes with Rasa's Redis lock store: set lock_db")
            env["RASA_TRACKER_STORE_URL"] = self.tracker_store_url
        if self.lock_db is not None:
            host, port = REDIS.removeprefix("redis://").split(":")
            env.update(RASA_LOCK_STORE_HOST=host, RASA_LOCK_STORE_PORT=port, RASA_LOCK_STORE_DB=str(self.lock_db))
            env["RASA_LOCK_STORE_URL"] = f"{REDIS}/{self.lock_db}"  # what /health/ready checks
        if self.queue_db is not None:
            env["HUEY_REDIS_URL"] = f"{REDIS}/{self.queue_db}"
        if self.rate_limit_db is not None:
            env["RATE_LIMIT_STORAGE_URL"] = f"{REDIS}/{self.rate_limit_db}"
        if self.production_url:
            env.update(ASSISTANT_ENV="production", PUBLIC_BASE_URL=self.production_url, PAYMENTS_SANDBOX="false")
        return env

    def command(self, name: str) -> list[str]:
        if name in self.rasa_names:
            endpoints = "bot/endpoints-sharded.yml" if self.tracker_store_url else "bot/endpoints.yml"
            return [
                str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(self.ports[name]),
                "--model", str(MODEL), "--endpoints", endpoints, "--credentials", "bot/credentials.yml",
                f"--auth-token={self.tokens['RASA_AUTH_TOKEN']}",  # "=": a token may start with "-"
            ]  # fmt: skip
        if name == "worker":
            return [str(ROOT / ".venv" / "bin" / "huey_consumer"), "app.worker.huey", "-k", "thread", "-w", "4", "-q"]
        if name == "actions":
            return [
                sys.executable,
                "-m",
                "bot.action_server",
                "--actions",
                "bot.actions",
                "-p",
                str(self.ports["actions"]),
                "--quiet",
            ]
        return [
            sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.ports["gateway"]), "--no-access-log",
        ]  # fmt: skip

    def start(self, name: str) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.procs[name] = subprocess.Popen(
            self.command(name), cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=8)  # the action server can take 20 s to stop on SIGTERM
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def health(self) -> dict:
        return httpx.get(f"{self.gateway_url}/health", timeout=10).json()

    def wait_healthy(self, timeout: float = 240) -> None:
        """Until /health says ok, or (production) /health/ready answers 200: every Rasa instance,
        the action server, the database and each Redis (compose's gateway healthcheck)."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.tail(name)}")
            try:
                if self.production_url:
                    response = httpx.get(f"{self.gateway_url}/health/ready", timeout=10)
                    last = response.json()
                    if response.status_code == 200:
                        return
                else:
                    last = self.health()
                    if last["status"] == "ok":
                        return
            except (httpx.HTTPError, ValueError) as exc:
                last = exc
            time.sleep(1)
        raise TimeoutError(f"stack not healthy after {timeout}s: {last}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def up(self) -> Stack:
        for name in (*self.rasa_names, "actions", "gateway"):
            self.ports[name] = free_port()
        self.prepare_database()
        for name in (*self.rasa_names, "actions", "gateway", "worker"):
            self.start(name)
        self.wait_healthy()
        return self

    def prepare_database(self) -> None:
        """Migrated, with the demo debtors (as `make run` leaves it) unless `demo_data` is off
        (compose's migrate service: the schema only)."""
        for cmd in (["migrate"], ["seed", "--demo"]) if self.demo_data else (["migrate"],):
            self.manage(*cmd)

    def manage(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m app.manage ...` with this stack's environment (plus `env`), as compose's
        `docker compose run --rm gateway python -m app.manage ...`; raises on a non-zero exit."""
        done = subprocess.run(
            [sys.executable, "-m", "app.manage", *args], cwd=ROOT, env={**self.env(), **(env or {})},
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"manage {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}")
        return done

    def down(self) -> None:
        """SIGTERM to every process at once, then each is waited for (killed after 8 s: the action
        server can take 20 s to stop once it has served requests)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name in list(self.procs):
            self.stop(name)

    @property
    def chat(self) -> WebchatClient:
        """Web chat with issued sessions: `say(label, ...)` makes one per label (tests/webchat.py)."""
        if self._chat is None:
            self._chat = WebchatClient(lambda path, **kw: httpx.post(f"{self.gateway_url}{path}", timeout=60, **kw))
        return self._chat

    def say(self, label: str, text: str, **extra: object) -> list[dict]:
        """One web chat message in the conversation `label` names (its session is issued on first use)."""
        return self.chat.say(label, text, **extra)

    def address(self, label: str) -> str:
        """The conversation's address (conversations.external_id) behind the web chat `label` names."""
        session_id = self.chat.session(label)
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(self.database_url.split("///", 1)[1]) as db:
                key = conversation_key(db, session_id)
        else:
            key = asyncio.run(_postgres_conversation_key(self.database_url, session_id))
        assert key, f"no web chat session for {label}"
        return key


async def _postgres_conversation_key(database_url: str, session_id: str) -> str | None:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        key = await connection.fetchval(
            "SELECT conversation_key FROM webchat_sessions WHERE token_hash = $1", digest(session_id)
        )
    finally:
        await connection.close()
    return str(key) if key else None
