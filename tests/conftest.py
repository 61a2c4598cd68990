from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import MODEL, RASA, Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa + action server + gateway as real processes on a fresh SQLite database."""
    if not MODEL.exists() or not RASA.exists():
        pytest.fail("end-to-end tests need the Rasa venv and a trained model: run `make test`")
    workdir: Path = tmp_path_factory.mktemp("stack")
    stack = Stack(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'e2e.db'}")
    try:
        yield stack.up()
    finally:
        stack.down()
