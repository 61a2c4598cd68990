"""Rate limits where messages come in: the hooks the inbound routes call (one line each) and the
webhook IP guard (ASGI middleware, registered in app/main.py).

- Provider webhooks (Twilio SMS/WhatsApp/status, Telegram, Stripe): before anything is read, an
  IP that failed the authenticity check too often (RATE_LIMIT_WEBHOOK_FAILURES_IP) is refused.
  Only failures count: Twilio sends everyone's SMS from a handful of IPs, so verified traffic is
  never limited by IP. Being refused even with a valid signature is what makes guessing a
  signature or a secret token hopeless (no answer to learn from once the budget is spent).
- After the check, each sender (phone number, chat id) has its own budget (RATE_LIMIT_SENDER).
  A refusal is a 429 with Retry-After and the webhook is not acknowledged, so nothing that was
  acknowledged is ever dropped; the provider may deliver it again later.
- Web chat (public, anonymous): per session id and per client IP, REST and WebSocket together,
  plus WebSocket connections per IP. The debtor gets a polite text in their language.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from channels.base import InboundMessage
from core.config import CoreSettings
from engine.abuse.clientip import client_ip
from engine.abuse.config import AbuseSettings
from engine.abuse.limiter import Limiter, Refusal
from locales import Catalog
from locales.catalog import FALLBACK_LOCALE, resolve_locale

log = logging.getLogger(__name__)
RATE_LIMITED_TEXT = "utter_rate_limited"
TOO_MANY = "too_many_requests"
# Webhook paths and the status their route answers a failed authenticity check with.
WEBHOOK_FAILURE_STATUS = {"/channels/telegram/webhook": 403, "/payments/stripe/webhook": 400}
TWILIO_PREFIX = "/channels/twilio/"
_fallback_catalog: Catalog | None = None


def _default_locale(app: Any) -> str:
    settings = getattr(app.state, "settings", None)
    return settings.default_locale if isinstance(settings, CoreSettings) else FALLBACK_LOCALE


def settings_for(app: Any) -> AbuseSettings:
    settings = getattr(app.state, "settings", None)
    return settings if isinstance(settings, AbuseSettings) else AbuseSettings()


def limiter_for(app: Any) -> Limiter:
    """The app's limiter, made on first use (in-process test apps without a lifespan work too)."""
    limiter = getattr(app.state, "abuse_limiter", None)
    if limiter is None:
        settings = settings_for(app)
        limiter = Limiter(storage_url=settings.rate_limit_storage_url, strategy=settings.rate_limit_strategy)
        app.state.abuse_limiter = limiter
    return limiter


def ip_of(conn: HTTPConnection | Scope) -> str:
    scope = conn.scope if isinstance(conn, HTTPConnection) else conn
    return client_ip(scope, settings_for(scope["app"]).trusted_proxies)


def _catalog(app: Any) -> Catalog:
    global _fallback_catalog
    catalog = getattr(app.state, "catalog", None)
    if isinstance(catalog, Catalog):
        return catalog
    _fallback_catalog = _fallback_catalog or Catalog()
    return _fallback_catalog


async def check_sender(conn: HTTPConnection, message: InboundMessage) -> None:
    """Provider webhooks, after the authenticity check: HTTPException 429 when over RATE_LIMIT_SENDER."""
    settings = settings_for(conn.app)
    if not settings.rate_limit_enabled:
        return
    refusal = await limiter_for(conn.app).hit(settings.rate_limit_sender, "sender", message.channel, message.sender)
    if refusal is not None:
        log.warning("abuse.sender_limited", extra={"channel": message.channel, "retry_after": refusal.retry_after})
        raise HTTPException(status_code=429, detail=TOO_MANY, headers=refusal.headers)


async def webchat_refusal(conn: HTTPConnection, *, session_id: str, locale: str | None) -> dict[str, Any] | None:
    """One web chat message (REST or WebSocket frame): None when allowed, else what the debtor
    is told: `{"detail"/"error": "rate_limited", "retry_after", "messages": [polite text]}`
    (the page shows the text)."""
    settings = settings_for(conn.app)
    if not settings.rate_limit_enabled:
        return None
    limiter = limiter_for(conn.app)
    refusal = await limiter.hit(settings.rate_limit_webchat_ip, "webchat-ip", ip_of(conn)) or await limiter.hit(
        settings.rate_limit_webchat_session, "webchat-session", session_id
    )
    if refusal is None:
        return None
    log.warning("abuse.webchat_limited", extra={"retry_after": refusal.retry_after})
    text = _catalog(conn.app).render(RATE_LIMITED_TEXT, resolve_locale(locale) or _default_locale(conn.app)).text
    return {
        "detail": "rate_limited",
        "error": "rate_limited",
        "retry_after": refusal.retry_after,
        "messages": [{"text": text, "buttons": []}],
    }


async def webchat_rest_refusal(conn: HTTPConnection, *, session_id: str, locale: str | None) -> JSONResponse | None:
    refused = await webchat_refusal(conn, session_id=session_id, locale=locale)
    if refused is None:
        return None
    return JSONResponse(refused, status_code=429, headers={"Retry-After": str(refused["retry_after"])})


async def webchat_session_refusal(conn: HTTPConnection) -> JSONResponse | None:
    """Creating a web chat session: a 429 with Retry-After when this IP creates them too fast
    (a page keeps its session; a fresh one per message would reset the per-session budget)."""
    settings = settings_for(conn.app)
    if not settings.rate_limit_enabled:
        return None
    refusal = await limiter_for(conn.app).hit(settings.rate_limit_webchat_sessions_ip, "webchat-new", ip_of(conn))
    if refusal is None:
        return None
    log.warning("abuse.webchat_sessions_limited", extra={"retry_after": refusal.retry_after})
    return JSONResponse({"detail": TOO_MANY}, 429, headers=refusal.headers)


async def refuse_websocket(websocket: WebSocket) -> bool:
    """Before accepting a web chat socket: True (and the handshake refused with 429 + Retry-After,
    or a close where the server cannot send that) when this IP opens sockets too fast."""
    settings = settings_for(websocket.app)
    if not settings.rate_limit_enabled:
        return False
    refusal = await limiter_for(websocket.app).hit(settings.rate_limit_webchat_connect_ip, "ws-ip", ip_of(websocket))
    if refusal is None:
        return False
    log.warning("abuse.websocket_limited", extra={"retry_after": refusal.retry_after})
    try:
        await websocket.send_denial_response(JSONResponse({"detail": TOO_MANY}, 429, headers=refusal.headers))
    except RuntimeError:  # the server lacks the websocket.http.response extension
        await websocket.close(code=1013)  # try again later
    return True


def _failure_status(path: str) -> int | None:
    return 403 if path.startswith(TWILIO_PREFIX) else WEBHOOK_FAILURE_STATUS.get(path)


class WebhookGuard:
    """ASGI middleware: per-IP budget of failed authenticity checks on provider webhooks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        failure = _failure_status(scope["path"]) if scope["type"] == "http" else None
        settings = settings_for(scope["app"]) if failure is not None else None
        if failure is None or settings is None or not settings.rate_limit_enabled:
            await self.app(scope, receive, send)
            return
        limiter, rule = limiter_for(scope["app"]), settings.rate_limit_webhook_failures_ip
        ip = ip_of(scope)
        refusal: Refusal | None = await limiter.exhausted(rule, "webhook-failures", ip)
        if refusal is not None:
            log.warning("abuse.webhook_ip_refused", extra={"path": scope["path"], "retry_after": refusal.retry_after})
            await JSONResponse({"detail": TOO_MANY}, 429, headers=refusal.headers)(scope, receive, send)
            return
        status = 0

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watching)
        if status == failure:
            await limiter.hit(rule, "webhook-failures", ip)
