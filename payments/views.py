"""Stripe webhook (signature checked with the SDK), the sandbox checkout page, the return page."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import stripe
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from core import metrics, templates
from core.deps import SessionDep
from core.errors import Refusal, refusals
from engine.conversations.deps import PipelineDep
from locales import Catalog
from locales.catalog import FALLBACK_LOCALE, resolve_locale
from locales.deps import CatalogDep
from money.ledger.money import from_minor
from payments import notices, sandbox
from payments import service as payments_service
from payments.config import PaymentSettingsDep
from payments.models import Payment, PaymentStatus
from payments.service import Outcome
from people.debtors import service as debtors_service

log = logging.getLogger(__name__)
router = APIRouter(tags=["payments"])
MAX_EVENT_BYTES = 256 * 1024


@router.post(
    "/payments/stripe/webhook",
    responses={400: {"model": Refusal, "description": "Missing or invalid signature"}, **refusals(413, 429)},
)
async def stripe_webhook(
    request: Request, session: SessionDep, settings: PaymentSettingsDep, pipeline: PipelineDep
) -> dict[str, Any]:
    """Verified with `stripe.Webhook.construct_event`; anything forged is a 400 and changes nothing."""
    with metrics.webhook_ack("stripe"):
        return await _stripe_event(request, session, settings, pipeline)


async def _stripe_event(
    request: Request, session: SessionDep, settings: PaymentSettingsDep, pipeline: PipelineDep
) -> dict[str, Any]:
    payload = await request.body()
    signature = request.headers.get("stripe-signature")
    if not signature or len(payload) > MAX_EVENT_BYTES:
        raise HTTPException(status_code=400, detail="missing Stripe-Signature header or body too large")
    if not signature.isascii():  # the SDK's compare_digest raises TypeError on it: a 500, not a 400
        raise HTTPException(status_code=400, detail="invalid signature or payload")
    secret = settings.webhook_secret()
    if secret is None:  # no payment provider configured: no event can be genuine
        raise HTTPException(status_code=400, detail="invalid signature or payload")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise HTTPException(status_code=400, detail="invalid signature or payload") from exc
    data = event.to_dict()
    result = await payments_service.handle_event(session=session, event=data)
    await session.commit()
    payments_service.count_booking(result)
    log.info("payments.webhook", extra={"type": data.get("type"), "outcome": result.outcome.value})
    event_id = str(data.get("id") or "")
    if result.outcome is Outcome.DUPLICATE:
        # Booked before; its notice may still be owed (the first delivery failed to send it).
        owed = await notices.claim(session=session, event_id=event_id)
        await session.commit()
        if owed is not None:
            await notices.send(owed, event_id=event_id, session=session, pipeline=pipeline)
    elif payments_service.notice_due(result):
        await notices.send(result, event_id=event_id, session=session, pipeline=pipeline)
    return {"received": True, "outcome": result.outcome.value}


# -- sandbox (PAYMENTS_SANDBOX=true and no STRIPE_SECRET_KEY; otherwise every route is a 404) ---

STATIC = Path(__file__).resolve().parent / "static"
STYLES = ["/payments/static/sandbox.css"]


async def _sandbox_payment(session: SessionDep, settings: PaymentSettingsDep, session_id: str) -> Payment:
    if settings.provider_name != "sandbox" or not session_id.startswith("cs_sandbox_"):
        raise HTTPException(status_code=404, detail="no such sandbox checkout")
    payment = await payments_service.by_checkout_session(session=session, checkout_session_id=session_id)
    if payment is None:
        raise HTTPException(status_code=404, detail="no such sandbox checkout")
    return payment


async def _locale(session: SessionDep, payment: Payment) -> str:
    debtor = await debtors_service.get(session=session, debtor_id=payment.debtor_id)
    return debtor.locale if debtor else "en"


def _page(catalog: Catalog, locale: str, payment: Payment, **context: str) -> HTMLResponse:
    """The TEST MODE checkout page (app/templates.py; payments/templates/sandbox.html)."""
    amount = catalog.render(
        "sandbox_amount",
        locale,
        None,
        {
            "due_money": {
                "amount": str(from_minor(payment.amount_minor, payment.currency)),
                "currency": payment.currency,
            }
        },
    ).text
    return templates.page(
        "payments/sandbox.html",
        {
            "locale": locale,
            "title": catalog.text("sandbox_title", locale),
            "banner": catalog.text("sandbox_banner", locale),
            "description": catalog.text("sandbox_description", locale),
            "amount": amount,
            "styles": STYLES,
            "scripts": [],
            **context,
        },
    )


@router.get("/payments/sandbox/checkout/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def sandbox_checkout(
    session_id: str, session: SessionDep, settings: PaymentSettingsDep, catalog: CatalogDep
) -> HTMLResponse:
    payment = await _sandbox_payment(session, settings, session_id)
    locale = await _locale(session, payment)
    if payment.status is not PaymentStatus.PENDING:
        return _page(catalog, locale, payment, already_done=catalog.text("sandbox_already_done", locale))
    return _page(
        catalog,
        locale,
        payment,
        action=f"/payments/sandbox/checkout/{session_id}",
        pay=catalog.text("sandbox_pay", locale),
        decline=catalog.text("sandbox_decline", locale),
    )


@router.post("/payments/sandbox/checkout/{session_id}/{choice}", include_in_schema=False)
async def sandbox_decide(
    session_id: str,
    choice: str,
    session: SessionDep,
    settings: PaymentSettingsDep,
    request: Request,
    tasks: BackgroundTasks,
) -> RedirectResponse:
    """Send the signed events to our own webhook URL — the same code path Stripe's events take."""
    if choice not in ("pay", "decline"):
        raise HTTPException(status_code=404, detail="unknown choice")
    payment = await _sandbox_payment(session, settings, session_id)
    events = sandbox.paid_events(payment) if choice == "pay" else sandbox.declined_events(payment)
    webhook = f"{settings.public_base_url.rstrip('/')}/payments/stripe/webhook"
    secret = settings.webhook_secret()
    assert secret is not None  # the sandbox is on (checked by _sandbox_payment)
    tasks.add_task(sandbox.deliver, events, webhook_url=webhook, secret=secret, http=request.app.state.http)
    status = "success" if choice == "pay" else "cancel"
    locale = await _locale(session, payment)
    # End this request's transaction before the events are delivered to our own webhook: on
    # SQLite it holds the write lock, and the webhook (another request) needs it.
    await session.commit()
    return RedirectResponse(f"/payments/return?status={status}&locale={locale}", status_code=303)


@router.get("/payments/return", response_class=HTMLResponse, include_in_schema=False)
async def payment_return(catalog: CatalogDep, status: str = "success", locale: str = "en") -> HTMLResponse:
    """Where Checkout sends the debtor back to: the chat will confirm once the money has arrived."""
    key = "payment_return_success" if status == "success" else "payment_return_cancel"
    code = resolve_locale(locale) or FALLBACK_LOCALE
    text = catalog.text(key, code)
    return templates.page(
        "payments/return.html", {"locale": code, "title": text, "text": text, "styles": STYLES, "scripts": []}
    )


@router.get("/payments/static/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    if name != "sandbox.css":  # the only file; nothing from user input reaches the file system
        raise HTTPException(status_code=404, detail="not_found")
    return FileResponse(STATIC / name, media_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"})
