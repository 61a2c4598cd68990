"""Stripe webhook (signature checked with the SDK), the sandbox checkout page, the return page."""

from __future__ import annotations

import html
import logging
from typing import Any

import stripe
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import CatalogDep, PipelineDep, SessionDep, SettingsDep
from app.errors import Refusal, refusals
from debtors import service as debtors_service
from ledger.money import from_minor
from locales import Catalog
from payments import notices, sandbox
from payments import service as payments_service
from payments.models import Payment, PaymentStatus
from payments.service import Outcome

log = logging.getLogger(__name__)
router = APIRouter(tags=["payments"])
MAX_EVENT_BYTES = 256 * 1024


@router.post(
    "/payments/stripe/webhook",
    responses={400: {"model": Refusal, "description": "Missing or invalid signature"}, **refusals(413, 429)},
)
async def stripe_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, pipeline: PipelineDep
) -> dict[str, Any]:
    """Verified with `stripe.Webhook.construct_event`; anything forged is a 400 and changes nothing."""
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

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1rem;max-width:28rem;margin:auto;color:#1b1b1b}}
.banner{{background:#ffe08a;border:2px dashed #8a6d00;padding:.75rem;font-weight:700;border-radius:.5rem}}
.amount{{font-size:2rem;font-weight:700;margin:1rem 0}}button{{font:inherit;padding:.75rem 1rem;border-radius:.5rem;
border:0;margin:.25rem 0;width:100%;cursor:pointer}}.pay{{background:#1f6feb;color:#fff}}.decline{{background:#e5e5e5}}</style>
</head><body><main><p class="banner" role="note">{banner}</p><h1>{title}</h1><p>{description}</p>
<p class="amount">{amount}</p>{body}</main></body></html>"""


async def _sandbox_payment(session: SessionDep, settings: SettingsDep, session_id: str) -> Payment:
    if settings.provider_name != "sandbox" or not session_id.startswith("cs_sandbox_"):
        raise HTTPException(status_code=404, detail="no such sandbox checkout")
    payment = await payments_service.by_checkout_session(session=session, checkout_session_id=session_id)
    if payment is None:
        raise HTTPException(status_code=404, detail="no such sandbox checkout")
    return payment


async def _locale(session: SessionDep, payment: Payment) -> str:
    debtor = await debtors_service.get(session=session, debtor_id=payment.debtor_id)
    return debtor.locale if debtor else "en"


def _page(catalog: Catalog, locale: str, payment: Payment, body: str) -> HTMLResponse:
    t = lambda key: html.escape(catalog.text(key, locale))  # noqa: E731 - tiny local helper
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
    return HTMLResponse(
        PAGE.format(
            lang=html.escape(locale),
            title=t("sandbox_title"),
            banner=t("sandbox_banner"),
            description=t("sandbox_description"),
            amount=html.escape(amount),
            body=body,
        )  # fmt: skip
    )


@router.get("/payments/sandbox/checkout/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def sandbox_checkout(
    session_id: str, session: SessionDep, settings: SettingsDep, catalog: CatalogDep
) -> HTMLResponse:
    payment = await _sandbox_payment(session, settings, session_id)
    locale = await _locale(session, payment)
    if payment.status is not PaymentStatus.PENDING:
        return _page(catalog, locale, payment, f"<p>{html.escape(catalog.text('sandbox_already_done', locale))}</p>")
    action = f"/payments/sandbox/checkout/{html.escape(session_id)}"
    body = (
        f'<form method="post" action="{action}/pay"><button class="pay" type="submit">{html.escape(catalog.text("sandbox_pay", locale))}</button></form>'
        f'<form method="post" action="{action}/decline"><button class="decline" type="submit">{html.escape(catalog.text("sandbox_decline", locale))}</button></form>'
    )
    return _page(catalog, locale, payment, body)


@router.post("/payments/sandbox/checkout/{session_id}/{choice}", include_in_schema=False)
async def sandbox_decide(
    session_id: str, choice: str, session: SessionDep, settings: SettingsDep, request: Request, tasks: BackgroundTasks
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
    text = html.escape(catalog.text(key, locale))
    return HTMLResponse(
        f'<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><main style="font:16px system-ui;padding:1rem"><p>{text}</p></main>'
    )
