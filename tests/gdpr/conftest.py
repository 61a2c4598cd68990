"""The privacy hash key for in-process tests (never the developer's var/ file)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gdpr import config


@pytest.fixture(autouse=True)
def privacy_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PRIVACY_HASH_KEY", "test-privacy-key-not-for-production")
    config.hash_key.cache_clear()
    yield
    config.hash_key.cache_clear()
