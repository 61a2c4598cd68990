"""The processes under test. `make bench` starts the whole stack the way the end-to-end tests do
(tests/stack.py: Rasa, action server, gateway, inbox worker on a fresh database), with Twilio's
and Telegram's APIs faked on loopback so the worker's replies go somewhere, plus the baseline.
A stack that is already running (the test suite's `stack` fixture) is described by `Targets`.

Bare Rasa, the baseline: a second, stock Rasa process serving the same model on Rasa's own REST
channel (a credentials file with only `rest:`, so nothing of bot/connectors is loaded), with the
same action server and the same NLG endpoint (our domain has no texts: any deployment of this
bot needs both). What it lacks is the gateway in front. Against a running stack without such a
process, the stack's own Rasa is reached on its REST channel instead (`rest:` in
bot/credentials.yml); the report says which (`config.bare_rasa_process`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.stack import RASA, ROOT, SMS_NUMBER, Stack, fake_provider_env, free_port, work_folder

BARE = "bare_rasa"
TELEGRAM_SECRET = "bench-telegram-secret"


@dataclass(frozen=True)
class Targets:
    """Where to send traffic, and which processes to watch (name -> pid)."""

    gateway_url: str
    rasa_url: str
    bare_rasa_url: str | None = None  # a stock Rasa for the baseline; None: the stack's own Rasa
    pids: dict[str, int] = field(default_factory=dict)
    twilio_auth_token: str | None = None
    sms_number: str = SMS_NUMBER
    telegram_secret: str | None = None
    rasa_token: str | None = None  # RASA_AUTH_TOKEN (Rasa's API and its REST channel)

    @classmethod
    def from_stack(
        cls, stack: Stack, *, twilio_auth_token: str | None, telegram_secret: str | None, sms_number: str = SMS_NUMBER
    ) -> Targets:
        return cls(
            gateway_url=stack.gateway_url,
            rasa_url=f"http://127.0.0.1:{stack.ports['rasa']}",
            bare_rasa_url=f"http://127.0.0.1:{stack.ports[BARE]}" if BARE in stack.ports else None,
            pids={name: proc.pid for name, proc in stack.procs.items()},
            twilio_auth_token=twilio_auth_token,
            sms_number=sms_number,
            telegram_secret=telegram_secret,
            rasa_token=stack.tokens["RASA_AUTH_TOKEN"],
        )

    @property
    def baseline_url(self) -> str:
        return self.bare_rasa_url or self.rasa_url

    def phase_pids(self, phase: str) -> dict[str, int]:
        """The processes each side runs on: the baseline has no gateway in front and no inbox
        worker (the gateway process still serves it texts, as its NLG endpoint)."""
        if phase == "full":
            return {name: pid for name, pid in self.pids.items() if name != BARE}
        skip = {"worker", "rasa"} if self.bare_rasa_url and BARE in self.pids else {"worker"}
        return {name: pid for name, pid in self.pids.items() if name not in skip}


class BenchStack(Stack):
    """The e2e stack plus the stock Rasa of the baseline (same model, endpoints and environment)."""

    def command(self, name: str) -> list[str]:
        if name != BARE:
            return super().command(name)
        command = super().command("rasa")
        command[command.index("-p") + 1] = str(self.ports[BARE])
        command[command.index("--credentials") + 1] = str(self.workdir / "bare-credentials.yml")
        return command

    def up(self) -> BenchStack:
        super().up()
        self.ports[BARE] = free_port()
        (self.workdir / "bare-credentials.yml").write_text("rest: {}\n")
        self.start(BARE)
        url = f"http://127.0.0.1:{self.ports[BARE]}"
        wait_for_model(url, self.procs[BARE], lambda: self.tail(BARE), token=self.tokens["RASA_AUTH_TOKEN"])
        return self


def wait_for_model(
    url: str, proc: subprocess.Popen[bytes], tail: Callable[[], str], timeout: float = 240, *, token: str | None = None
) -> None:
    """Until Rasa at `url` has loaded its model (GET /status, --enable-api, its --auth-token)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bare Rasa exited: {tail()}")
        try:
            if (
                httpx.get(f"{url}/status", params={"token": token} if token else None, timeout=5)
                .json()
                .get("model_file")
            ):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise TimeoutError(f"bare Rasa did not load its model in {timeout}s: {tail()}")


@contextmanager
def started(
    *, database_url: str | None = None, workdir: Path | None = None, separate_baseline: bool = True
) -> Iterator[Targets]:
    """The full stack on free ports (SQLite in the work dir unless `database_url`) and, unless
    told otherwise, the stock Rasa of the baseline; all stopped on exit."""
    with work_folder(workdir, prefix="bench-") as where, FakeTwilio() as twilio, FakeTelegram() as telegram:
        stack = (BenchStack if separate_baseline else Stack)(
            workdir=where,
            database_url=database_url or f"sqlite+aiosqlite:///{where / 'bench.db'}",
            extra_env={
                **fake_provider_env(twilio, telegram, telegram_secret=TELEGRAM_SECRET),
                "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            },
        )
        try:
            stack.up()
            yield Targets.from_stack(stack, twilio_auth_token=twilio.auth_token, telegram_secret=TELEGRAM_SECRET)
        finally:
            stack.down()


def train_seconds(*, timeout: float = 900) -> float:
    """Wall time of a cold `rasa train` of bot/ into a temporary folder (own, empty training
    cache, so nothing is reused from an earlier training); models/ is not touched."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", RASA_CACHE_DIRECTORY=str(Path(tmp) / "cache"))
        command = [
            str(RASA), "train", "--domain", "bot/domain", "--config", "bot/config.yml",
            "--data", "bot/data", "bot/nlu/data", "--out", str(Path(tmp) / "out"), "--fixed-model-name", "bench",
        ]  # fmt: skip
        began = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=timeout, check=False)
        elapsed = time.monotonic() - began
        if done.returncode != 0 or not (Path(tmp) / "out" / "bench.tar.gz").exists():
            tail = done.stdout.decode(errors="replace")[-2000:] + done.stderr.decode(errors="replace")[-2000:]
            raise RuntimeError(f"rasa train failed (exit {done.returncode}): {tail}")
        return elapsed
