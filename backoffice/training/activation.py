"""Hot-swapping the model of the running Rasa (`PUT /model`, Rasa's HTTP API with --enable-api):
Rasa loads the new model next to the old one and swaps them when it is ready, so conversations
never see a Rasa without a model. Activations are serialised in this process. Rasa's API wants
its token (`token`: RASA_AUTH_TOKEN, as RasaClient sends it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import httpx

from backoffice.training.service import TrainingError

LOAD_TIMEOUT_SECONDS = 180.0
_lock = asyncio.Lock()


def lock() -> asyncio.Lock:
    return _lock


def _auth(token: str | None) -> dict[str, str]:
    return {"token": token} if token else {}


async def loaded_model(*, http: httpx.AsyncClient, rasa_url: str, token: str | None = None) -> str | None:
    """The file name of the model Rasa runs (GET /status), None when Rasa has none or is down."""
    try:
        response = await http.get(f"{rasa_url}/status", params=_auth(token), timeout=10)
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return None
    return str(body.get("model_file") or "") or None


async def load_model(*, http: httpx.AsyncClient, rasa_url: str, model: Path, token: str | None = None) -> None:
    """Ask Rasa to load `model` (an absolute path on Rasa's machine) and check it runs it."""
    try:
        response = await http.put(
            f"{rasa_url}/model", params=_auth(token), json={"model_file": str(model)}, timeout=LOAD_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise TrainingError("rasa_unavailable", 503) from exc
    if response.status_code != 204:
        raise TrainingError("model_load_failed", 502)
    if await loaded_model(http=http, rasa_url=rasa_url, token=token) != model.name:
        raise TrainingError("model_load_failed", 502)


async def load_everywhere(
    *, http: httpx.AsyncClient, rasa_urls: Sequence[str], model: Path, fallback: str | None, token: str | None = None
) -> None:
    """Every Rasa instance runs `model` (sharded Rasa: any instance may serve any conversation), or
    when one fails, the instances already switched go back to `fallback` (the active model's path)."""
    switched: list[str] = []
    try:
        for rasa_url in rasa_urls:
            await load_model(http=http, rasa_url=rasa_url, model=model, token=token)
            switched.append(rasa_url)
    except TrainingError:
        if fallback:
            for rasa_url in switched:
                with contextlib.suppress(TrainingError):
                    await load_model(http=http, rasa_url=rasa_url, model=Path(fallback), token=token)
        raise
