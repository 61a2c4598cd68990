"""The FastAPI gateway: web chat, Rasa's NLG endpoint and health, wired in one lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from app import health as app_health
from app import metrics as app_metrics
from app import models as _all_models  # noqa: F401 - every table known to the ORM
from app import openapi as app_openapi
from app import scheduler as app_scheduler
from app import views as app_views
from app import worker
from app.config import GatewaySettings, get_settings
from app.wiring import build_pipeline
from backoffice.admin import pages as admin_pages
from backoffice.analytics import views as analytics_views
from backoffice.training import jobs as training_jobs
from backoffice.training import views as training_views
from channels import views as channels_views
from channels import webchat
from channels.push import Connections
from core.database import make_engine, make_sessionmaker
from core.errors import database_busy
from core.logging import configure_logging
from engine.abuse.bodysize import BodySizeLimit
from engine.abuse.guard import WebhookGuard
from engine.experiments import views as experiments_views
from handoff import pages as handoff_pages
from handoff import views as handoff_views
from locales import views as locales_views
from locales.tone import views as tone_views
from money.reminders import views as reminders_views
from payments import views as payments_views
from people.audit.middleware import AuditMiddleware
from people.auth import views as auth_views
from people.gdpr import views as gdpr_views
from people.portfolio import views as portfolio_views

log = logging.getLogger(__name__)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(service="gateway")  # JSON lines, personal data masked (uvicorn's loggers too)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(limits=limits) as http:
            app.state.settings = settings
            app.state.http = http
            app.state.enqueue = worker.enqueue  # channels accept, the inbox worker answers
            app.state.webchat_connections = Connections()
            app.state.engine = engine
            app.state.sessionmaker = make_sessionmaker(engine)
            # Trainings interrupted by a restart are marked failed (one gateway process trains).
            await training_jobs.on_startup(app.state.sessionmaker)
            # Texts from locales/ with admins' live edits (locales/tone/overrides.py), Rasa, outputs: app/wiring.py.
            app.state.pipeline = build_pipeline(
                settings, sessionmaker=app.state.sessionmaker, http=http,
                outputs={"webchat": app.state.webchat_connections},
            )  # fmt: skip
            app.state.catalog = app.state.pipeline.catalog
            app.state.rasa = app.state.pipeline.rasa
            settings.webhook_secret()  # fail fast: Stripe keys without a webhook secret
            scheduler = app_scheduler.start(
                app.state.sessionmaker,
                minutes=settings.evaluate_every_minutes,
                pipeline=app.state.pipeline,
                settings=settings,
            )
            print(f"Debtor assistant web chat: http://{settings.host}:{settings.port}/", flush=True)
            if settings.provider_name == "sandbox":  # opt-in only (PAYMENTS_SANDBOX=true): say it loudly
                print("Payments: SANDBOX on (PAYMENTS_SANDBOX=true) - test payment pages, no money moves", flush=True)
            yield
            scheduler.shutdown(wait=False)
            await training_jobs.shutdown()
        await engine.dispose()

    # /docs, /redoc, /openapi.json: staff only unless ASSISTANT_ENV=demo (app/openapi.py docs_router).
    app = FastAPI(
        title="Debtor assistant gateway", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
        openapi_url=None,
    )  # fmt: skip
    app.state.settings = settings  # the docs check reads it, also before the lifespan ran
    app.include_router(app_openapi.docs_router)
    app.include_router(app_views.router)
    app.include_router(app_health.router)  # /health/live, /health/ready (docs/operations.md)
    app.include_router(app_metrics.router)  # /metrics: loopback or METRICS_TOKEN
    app.include_router(locales_views.router)
    app.include_router(webchat.router)
    app.include_router(payments_views.router)
    app.include_router(channels_views.router)
    app.include_router(auth_views.router)
    app.include_router(handoff_views.router)
    app.include_router(handoff_pages.router)
    app.include_router(admin_pages.router)
    admin_apis = (training_views, tone_views, experiments_views, reminders_views, analytics_views, gdpr_views)
    for admin_api in (*admin_apis, portfolio_views):
        app.include_router(admin_api.router)
    app.add_exception_handler(OperationalError, database_busy)  # an overloaded SQLite: 503, not 500
    app_openapi.document_refusals(app)  # 401/403/400 each route inherits, in the OpenAPI schema
    app.add_middleware(AuditMiddleware)
    app.add_middleware(WebhookGuard)  # failed webhook signatures per IP (engine/abuse/guard.py)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, by_path=settings.max_body_bytes_by_path)
    return app
