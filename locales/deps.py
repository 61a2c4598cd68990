"""The text catalog as a FastAPI dependency (loaded once in the gateway's lifespan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from locales import Catalog


def _catalog(conn: HTTPConnection) -> Catalog:
    return conn.app.state.catalog


CatalogDep = Annotated[Catalog, Depends(_catalog)]
