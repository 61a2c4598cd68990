"""`python -m app.manage install-model` (compose's models-init): the model Rasa starts with, in the
models folder the gateway's admin activation writes; kept on a rerun unless --replace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.manage import install_model
from tests.stack import ROOT


def test_installs_once_then_keeps_then_replaces(tmp_path: Path) -> None:
    models = tmp_path / "var" / "models"
    first, second = tmp_path / "first.tar.gz", tmp_path / "second.tar.gz"
    first.write_bytes(b"model one")
    second.write_bytes(b"model two")
    install_model(first, models, replace=False)
    active = models / "active.tar.gz"
    assert active.is_symlink() and not os.readlink(active).startswith("/")  # valid wherever the volume is mounted
    assert active.read_bytes() == b"model one"
    assert install_model(second, models, replace=False).startswith("kept")
    assert active.read_bytes() == b"model one"
    install_model(second, models, replace=True)
    assert active.read_bytes() == b"model two"
    with pytest.raises(SystemExit, match="no model at"):
        install_model(tmp_path / "missing.tar.gz", tmp_path / "other", replace=False)


def test_models_init_as_compose_runs_it(tmp_path: Path) -> None:
    """The command line, with the deployment's profile (manage never refuses), then the path Rasa's
    --model names (var/models/active.tar.gz from /app) opens the installed model."""
    model = tmp_path / "models" / "debtor.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"trained")
    env = dict(os.environ, ASSISTANT_ENV="production", TRAINING_MODELS_DIR=str(tmp_path / "var" / "models"))
    done = subprocess.run(
        [sys.executable, "-m", "app.manage", "install-model", "models/debtor.tar.gz"],
        cwd=tmp_path, env=dict(env, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "var/models/active.tar.gz").read_bytes() == b"trained"
