"""The twilio SDK's own async HTTP client, pointed at another base URL (TWILIO_API_BASE): a
regional edge, a proxy, or a fake Twilio on loopback in tests."""

from __future__ import annotations

import re
from typing import Any

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

TWILIO_HOST = re.compile(r"^https://[A-Za-z0-9.-]*\.twilio\.com(?=/|$)")


class RedirectedTwilioHttpClient(AsyncTwilioHttpClient):
    """The SDK's own async HTTP client with ``https://*.twilio.com`` rewritten to `base_url`
    (TWILIO_API_BASE: a regional edge, a proxy, or a fake Twilio on loopback in tests).

    Create it inside a running event loop (aiohttp binds its session to it) and ``await close()``.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        return TWILIO_HOST.sub(self.base_url, url, count=1)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's signature, passed on unchanged
        allow_redirects: bool = False,
    ) -> Response:
        return await super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
