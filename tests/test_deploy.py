"""docker-compose.yml and the Dockerfile stay in step with the code (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_services_and_what_they_run() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "actions", "worker", "rasa", "gateway"} <= set(services)
    for name in ("postgres", "redis", "actions", "rasa", "gateway"):
        assert "healthcheck" in services[name], name
    modules = {"app.manage", "rasa_sdk", "inbox.worker", "app.main", "bot.actions"}
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "Dockerfile").read_text()
    for module in modules:
        assert module in text or module == "app.main"
        assert importlib.util.find_spec(module) is not None, module
    for path in ("bot/endpoints.yml", "bot/credentials.yml"):
        assert (ROOT / path).exists()


def test_dockerfile_copies_every_package() -> None:
    copied = set(re.findall(r"^COPY (\S+) ", (ROOT / "Dockerfile").read_text(), flags=re.M))
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "tools"}
    assert packages <= copied, packages - copied
    assert "config" in copied and "migrations" in copied
