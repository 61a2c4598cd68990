"""The house (issue 15): a root of a few bounded-context packages, imports down the layers only,
and a real package (pyproject.toml) instead of a PYTHONPATH."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
CARD = ["bot", "channels", "handoff", "payments", "locales"]  # the design card's folders stay on top


def root_packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_root_holds_at_most_twelve_packages_with_the_card_folders_on_top() -> None:
    packages = root_packages()
    assert len(packages) <= 12, sorted(packages)
    assert set(CARD) <= packages
    assert (ROOT / "bot" / "nlu").is_dir() and (ROOT / "bot" / "actions" / "__init__.py").is_file()
    for kept in ("tests", "docker-compose.yml", "README.md"):
        assert (ROOT / kept).exists(), kept


def test_every_root_package_is_shipped_and_layered() -> None:
    config = pyproject()
    shipped = {name.rstrip("*") for name in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert shipped == root_packages()
    linter = config["tool"]["importlinter"]
    assert set(linter["root_packages"]) == root_packages()
    layered = {name.strip() for layer in linter["contracts"][0]["layers"] for name in layer.split(":")}
    assert layered == root_packages()


def test_imports_point_down_the_layers() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_dependencies_are_declared_and_the_lock_pins_each_of_them() -> None:
    config = pyproject()
    assert config["build-system"]["build-backend"] == "setuptools.build_meta"
    declared = {Requirement(line).name.lower() for line in config["project"]["dependencies"]}
    dev = {Requirement(line).name.lower() for line in config["project"]["optional-dependencies"]["dev"]}

    def pinned(name: str) -> set[str]:
        lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
        return {Requirement(line).name.lower() for line in lines if line.strip() and not line.startswith(("#", "-"))}

    assert pinned("requirements.txt") == declared
    assert pinned("requirements-dev.txt") == dev


def test_no_pythonpath_trick_and_mypy_runs_from_config() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PYTHONPATH" not in makefile and "PYTHONPATH" not in (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install -q --no-deps --no-build-isolation -e ." in makefile
    assert "\t$(VENV)/bin/mypy\n" in makefile  # no package list: pyproject.toml's [tool.mypy] files
    mypy = pyproject()["tool"]["mypy"]
    assert mypy["files"] == ["."]
    strict = next(o for o in mypy["overrides"] if "money.*" in o["module"])
    assert {"payments.*", "people.identity.*"} <= set(strict["module"]) and strict["disallow_untyped_defs"]


def test_pre_commit_runs_what_make_lint_runs() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0]["hooks"]
    entries = " ".join(hook["entry"] for hook in hooks)
    for tool in ("ruff check", "ruff format --check", "mypy", "lint-imports"):
        assert tool in entries, tool
    done = subprocess.run(
        [str(Path(sys.executable).with_name("pre-commit")), "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_readme_folder_table_names_every_top_level_folder() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| folder | what |") :].split("\n\n", 1)[0]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    folders = {line.split("/", 1)[0] for line in tracked.splitlines() if "/" in line}
    for folder in folders:
        assert f"| `{folder}/` |" in table, folder
