"""Admin API for the dashboard: routes under /agent/api/admin/analytics (admins only).

GET /metrics     -> the report as JSON (totals, time series, breakdowns by channel/locale/variant)
GET /export.csv  -> the same as CSV, downloaded as an attachment
GET /outreach    -> the first-contact funnel (contacted, replied, verified, paid or agreed) per
                    cadence step and per text variant, for debts first contacted in from..to

Query parameters (both): from, to (local dates, inclusive; default the last 30 days), tz (IANA
name, default UTC), bucket (day|week|month), channel, locale, experiment (id; default the latest
started), variant. An invalid choice is 422 with a code: invalid_timezone, invalid_bucket,
from_after_to, range_too_long (max 366 days), unknown_channel, unknown_locale, unknown_experiment,
unknown_variant.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.analytics import export, service
from backoffice.analytics.metrics import Report
from backoffice.analytics.periods import FilterError, parse_filters
from core.database import READ_ONLY
from core.deps import SessionDep
from core.errors import refusals
from core.types import IsoDay
from people.auth.deps import AdminDep

router = APIRouter(prefix="/agent/api/admin/analytics", tags=["admin-analytics"])
CSV = {"description": "The report as CSV (an attachment)", "content": {"text/csv": {"schema": {"type": "string"}}}}


async def _report(
    session: AsyncSession,
    start_day: date | None,
    end_day: date | None,
    timezone: str,
    bucket: str,
    channel: str | None,
    locale: str | None,
    experiment: int | None,
    variant: str | None,
) -> Report:
    try:
        filters = parse_filters(
            start_day=start_day,
            end_day=end_day,
            timezone=timezone,
            bucket=bucket,
            channel=channel or None,
            locale=locale or None,
            experiment_id=experiment,
            variant=variant or None,
        )
        # End the login check's transaction (on SQLite it holds the write lock) and read the
        # report in a transaction that takes none, so writers never wait for the dashboard.
        await session.commit()
        await session.connection(execution_options=READ_ONLY)
        return await service.report(session=session, filters=filters)
    except FilterError as exc:
        raise HTTPException(status_code=422, detail=exc.code) from exc
    finally:
        # Read-only: end the transaction (on SQLite the request's session holds the write lock).
        await session.rollback()


From = Annotated[IsoDay | None, Query(alias="from")]
To = Annotated[IsoDay | None, Query(alias="to")]
Tz = Annotated[str, Query(alias="tz", max_length=64)]
BucketQ = Annotated[str, Query(max_length=8)]
Text = Annotated[str | None, Query(max_length=32)]
ExperimentQ = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("/metrics", responses=refusals(422))
async def metrics(
    admin: AdminDep,
    session: SessionDep,
    start_day: From = None,
    end_day: To = None,
    timezone: Tz = "UTC",
    bucket: BucketQ = "day",
    channel: Text = None,
    locale: Text = None,
    experiment: ExperimentQ = None,
    variant: Text = None,
) -> dict[str, Any]:
    report = await _report(session, start_day, end_day, timezone, bucket, channel, locale, experiment, variant)
    return report.to_json()


@router.get("/outreach", responses=refusals(422))
async def outreach(
    admin: AdminDep, session: SessionDep, start_day: From = None, end_day: To = None, timezone: Tz = "UTC"
) -> dict[str, Any]:
    try:
        filters = parse_filters(start_day=start_day, end_day=end_day, timezone=timezone, bucket="day")
        await session.commit()  # as `_report`: read without holding SQLite's write lock
        await session.connection(execution_options=READ_ONLY)
        return await service.outreach(session=session, filters=filters)
    except FilterError as exc:
        raise HTTPException(status_code=422, detail=exc.code) from exc
    finally:
        await session.rollback()


@router.get("/export.csv", response_class=Response, responses={200: CSV, **refusals(422)})
async def export_csv(
    admin: AdminDep,
    session: SessionDep,
    start_day: From = None,
    end_day: To = None,
    timezone: Tz = "UTC",
    bucket: BucketQ = "day",
    channel: Text = None,
    locale: Text = None,
    experiment: ExperimentQ = None,
    variant: Text = None,
) -> Response:
    report = await _report(session, start_day, end_day, timezone, bucket, channel, locale, experiment, variant)
    return Response(
        content=export.to_csv(report).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename(report)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
