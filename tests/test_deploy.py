"""docker-compose.yml and the Dockerfile stay in step with the code (no Docker engine needed):
the compose file is valid against the Compose Specification's JSON schema (vendored by
check-jsonschema), and everything it names (modules, files, env vars, services, ports) exists."""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from app.config import GatewaySettings

ROOT = Path(__file__).resolve().parent.parent
ONE_SHOT = {"migrate", "rasa-db", "models-init"}  # run to completion before the others start
ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)(?:[:?\-][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def rasa_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if re.fullmatch(r"rasa-\d+", name)}


def app_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else dict(e.split("=", 1) for e in env)


def test_compose_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(
        importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, errors
    broken = dict(compose, services={"x": {"image": "a", "healthcheck": {"test": ["CMD", "true"], "intervall": "5s"}}})
    assert list(validator.iter_errors(broken)), "the schema must catch a misspelt key"


def test_compose_services_and_what_they_run(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "actions", "worker", "rasa-db", "gateway"} <= set(services)
    assert len(rasa_services(compose)) >= 2, "production runs several Rasa instances"
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert "healthcheck" in service, name
    modules = {"app.manage", "bot.action_server", "app.worker", "app.main", "bot.actions"}
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "Dockerfile").read_text()
    for module in modules:
        assert module in text
        assert importlib.util.find_spec(module) is not None, module
    for path in ("bot/endpoints.yml", "bot/endpoints-sharded.yml", "bot/credentials.yml"):
        assert (ROOT / path).exists()


def test_every_command_names_something_that_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if service.get("build"):
            argv = command if command and command[0] != "sh" else []
            for i, arg in enumerate(argv):
                if argv[max(i - 1, 0)] in ("-m", "--actions"):
                    assert importlib.util.find_spec(arg) is not None, (name, arg)
            if argv[:1] == ["huey_consumer"]:
                module, _, attr = argv[1].rpartition(".")
                assert hasattr(importlib.import_module(module), attr), (name, argv[1])
            for module, sub in re.findall(r"python -m (app\.manage) ([\w-]+)", " ".join(command)):
                spec = importlib.util.find_spec(module)
                assert spec and spec.origin and f'add_parser("{sub}"' in Path(spec.origin).read_text(), (name, sub)
        for flag in ("--endpoints", "--credentials"):
            if flag in command:
                assert (ROOT / command[command.index(flag) + 1]).is_file(), (name, flag)
        for volume in service.get("volumes") or []:
            host = str(volume).split(":", 1)[0]
            if host.startswith("./"):
                assert (ROOT / host).is_dir() or host == "./models", (name, host)


def test_rasa_instances_share_state_and_match_the_routing(compose: dict[str, Any]) -> None:
    """Every Rasa instance runs the sharded endpoints with every ${VAR} they need, the same model
    as the Makefile trains, the Rasa version of requirements-rasa.txt, and the gateway and the
    worker route to exactly these instances (RASA_URLS)."""
    rasa = rasa_services(compose)
    endpoints = (ROOT / "bot" / "endpoints-sharded.yml").read_text()
    needed = set(ENV_REF.findall(re.sub(r"#.*", "", endpoints)))
    assert {"RASA_TRACKER_STORE_URL", "RASA_LOCK_STORE_HOST"} <= needed
    pinned = re.search(r"^rasa==([\d.]+)", (ROOT / "requirements-rasa.txt").read_text(), flags=re.M)
    assert pinned
    urls = set()
    for name, service in rasa.items():
        command = service["command"]
        assert command[command.index("--endpoints") + 1] == "bot/endpoints-sharded.yml", name
        assert service["image"].startswith(f"rasa/rasa:{pinned.group(1)}"), name
        env = app_env(service)
        assert needed <= set(env), (name, needed - set(env))
        assert env["RASA_LOCK_STORE_HOST"] in compose["services"]
        assert "@postgres:" in env["RASA_TRACKER_STORE_URL"]
        assert service["depends_on"]["rasa-db"]["condition"] == "service_completed_successfully"
        urls.add(f"http://{name}:{command[command.index('-p') + 1]}")
    for name in ("gateway", "worker"):
        env = app_env(compose["services"][name])
        settings = GatewaySettings(rasa_urls=env["RASA_URLS"], rasa_url=env["RASA_URL"])
        assert set(settings.rasa_endpoints()) == urls, name
        assert env["RASA_URL"] in urls
    lock_dbs = {app_env(s)["RASA_LOCK_STORE_DB"] for s in rasa.values()}
    queue_db = app_env(compose["services"]["worker"])["HUEY_REDIS_URL"].rsplit("/", 1)[1]
    assert len(lock_dbs) == 1 and queue_db not in lock_dbs, "Rasa's locks and the inbox queue: separate Redis dbs"


def test_env_vars_are_documented_and_known(compose: dict[str, Any]) -> None:
    """Every ${VAR} the compose file reads from the env file is documented in .env.example, and
    every variable handed to the application is one the code reads."""
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    referenced = set(ENV_REF.findall((ROOT / "docker-compose.yml").read_text()))
    assert referenced <= documented, referenced - documented
    fields = {f.upper() for f in GatewaySettings.model_fields}
    packages = [p.parent for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"]
    source = "\n".join(p.read_text() for package in packages for p in package.rglob("*.py"))
    for name in ("gateway", "worker", "actions", "migrate"):
        for key in app_env(compose["services"][name]):
            assert key in fields or key in source or key.lower() in source, (name, key)


def test_dependencies_are_consistent(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, (name, target)
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
            if condition == "service_completed_successfully":
                assert target in ONE_SHOT, (name, target)
    gateway = services["gateway"]
    assert set(rasa_services(compose)) <= set(gateway["depends_on"])
    assert "/health" in " ".join(gateway["healthcheck"]["test"])


def test_dockerfile_copies_every_package() -> None:
    copied = set(re.findall(r"^COPY (\S+) ", (ROOT / "Dockerfile").read_text(), flags=re.M))
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "tools"}
    assert packages <= copied, packages - copied
    assert "config" in copied and "migrations" in copied


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services running the application image (built from the Dockerfile)."""
    return {name: s for name, s in compose["services"].items() if s.get("build")}


def mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Container path -> (source, read-only) of each short-syntax volume."""
    found = {}
    for volume in service.get("volumes") or []:
        source, target, *mode = str(volume).split(":")
        found[target] = (source, "ro" in mode)
    return found


def test_var_is_a_volume_the_image_user_can_write(compose: dict[str, Any]) -> None:
    """The image runs as its own user: /app/var (and var/models) must be created and owned by that
    user in the image, so a named volume mounted there starts as a writable copy of it."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    workdir = re.findall(r"^WORKDIR (\S+)", dockerfile, flags=re.M)[-1]
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)[-1]
    var = f"{workdir.rstrip('/')}/var"
    before_user = dockerfile[: dockerfile.rindex(f"USER {user}")]
    chowned = re.search(rf"mkdir -p {var}/models\b.*chown -R {user}(:{user})? {var}\b", before_user)
    assert chowned, "the image creates var/ owned by its user before switching to it"
    assert user != "root"
    named = set(compose.get("volumes") or {})
    for name, service in app_services(compose).items():
        source, read_only = mounts(service).get(var, ("", True))
        assert source in named and not read_only, (name, "var/ is a writable named volume")


def test_migrate_never_seeds(compose: dict[str, Any]) -> None:
    command = compose["services"]["migrate"]["command"]
    assert command[-2:] == ["app.manage", "migrate"] and not any("seed" in str(a) for a in command)
    manage = (ROOT / "app" / "manage.py").read_text()
    assert re.search(r'elif args.command == "migrate":\n\s+migrate\(url\)\n\s+elif', manage), "migrate does only that"


def test_the_model_volume_is_shared_read_only_with_every_rasa(compose: dict[str, Any]) -> None:
    """The gateway writes var/models (admin activation: PUT /model with its absolute path, then the
    active.tar.gz link); every Rasa mounts the same volume read-only at the same path and starts
    from the active model inside it."""
    gateway = mounts(compose["services"]["gateway"])
    models_dir = "/app/var/models"
    assert GatewaySettings.model_fields["training_models_dir"].default == ROOT / "var" / "models"
    source, read_only = gateway[models_dir]
    assert source in (compose.get("volumes") or {}) and not read_only
    writers = [n for n, s in app_services(compose).items() if mounts(s).get(models_dir, ("", True))[1] is False]
    assert set(writers) == {"gateway", "models-init"}, writers
    init = compose["services"]["models-init"]["command"]
    assert init[init.index("install-model") + 1] == "models/debtor.tar.gz"
    for name, service in rasa_services(compose).items():
        assert mounts(service)[models_dir] == (source, True), name
        assert service.get("working_dir") == "/app", name
        model = service["command"][service["command"].index("--model") + 1]
        assert f"/app/{model}" == f"{models_dir}/active.tar.gz", name
        assert service["depends_on"]["models-init"]["condition"] == "service_completed_successfully"


def test_every_application_service_runs_the_production_profile(compose: dict[str, Any]) -> None:
    for name, service in app_services(compose).items():
        env = app_env(service)
        assert env.get("ASSISTANT_ENV") == "production", name
        assert env["DATABASE_URL"].startswith("postgresql://"), name
        assert env["PUBLIC_BASE_URL"].startswith("${PUBLIC_BASE_URL:?"), name
        for key in ("HUEY_REDIS_URL", "RATE_LIMIT_STORAGE_URL"):
            assert env[key].startswith("redis://"), (name, key)


def test_the_application_image_can_retrain() -> None:
    """Admin retraining runs in the gateway's container: the image has Rasa (the version the Rasa
    services run) in a Python 3.10 venv of its own, named by RASA_BIN, with the 3.10 interpreter
    its links point at; the first version is the model compose's models-init installed."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assert len(stages) == 2, "a Rasa stage, then the application image"
    rasa_stage, final = stages
    assert rasa_stage.startswith("python:3.10-") and final.startswith("python:3.11-")
    assert rasa_stage.split()[0].rsplit("-", 1)[1] == final.split()[0].rsplit("-", 1)[1], "the same Debian release"
    assert "requirements-rasa.txt" in rasa_stage
    venv = re.search(r"/usr/local/bin/python3\.10 -m venv (\S+)", rasa_stage)
    assert venv, "the venv names python3.10 (plain `python` is 3.11 in the final image)"
    for path in ("/usr/local/bin/python3.10", "/usr/local/lib/python3.10", "/usr/local/lib/libpython3.10.so.1.0"):
        assert re.search(rf"^COPY --from=rasa {re.escape(path)} ", final, flags=re.M), path
    assert re.search(rf"^COPY --from=rasa {re.escape(venv[1])} {re.escape(venv[1])}$", final, flags=re.M)
    rasa_bin = re.search(r"^ENV .*\bRASA_BIN=(\S+)", final, flags=re.M)
    assert rasa_bin and rasa_bin[1] == f"{venv[1]}/bin/rasa" and f"{venv[1]}/bin/rasa --version" in final
    assert "rasa_bin" in GatewaySettings.model_fields  # RASA_BIN is the setting training runs
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    models = mounts(compose["services"]["gateway"])["/app/var/models"][0]
    assert app_env(compose["services"]["gateway"])["TRAINING_INITIAL_MODEL"] == "/app/var/models/active.tar.gz"
    assert mounts(compose["services"]["models-init"])["/app/var/models"] == (models, False)


def test_what_retraining_runs_imports_only_what_the_image_has() -> None:
    """The training job and the evaluation it starts (`python -m app.tools.eval_nlu`) import
    nothing from tests/, which the Dockerfile does not copy."""
    code = "import sys; sys.modules['tests'] = None; import app.tools.eval_nlu, backoffice.training.jobs"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
