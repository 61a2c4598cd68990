"""The dashboard's filters and time buckets.

Buckets are local calendar days, ISO weeks (Monday first) or months in the chosen time zone.
Their edges are computed here, in Python, as UTC instants (zoneinfo knows every DST change), and
the SQL only compares timestamps with those instants: the same query then buckets identically on
SQLite (which has no time-zone support) and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from locales import SUPPORTED_LOCALES

MAX_DAYS = 366
DEFAULT_DAYS = 30
CHANNELS: tuple[str, ...] = ("webchat", "sms", "whatsapp", "telegram")
UNASSIGNED = "unassigned"  # the variant of a debtor outside the experiment (or of an unknown person)
UNKNOWN = "unknown"  # a channel or locale that is not known (e.g. a plan without its conversation)


class BucketSize(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class FilterError(ValueError):
    """A filter the dashboard cannot apply: answered with 422 and this code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Bucket:
    label: str  # the nominal start of the day/week/month, ISO date
    first_day: date  # the local days covered (clipped to the range), inclusive
    last_day: date
    start: datetime  # [start, end) in UTC
    end: datetime


@dataclass(frozen=True)
class Filters:
    start_day: date
    end_day: date  # inclusive
    timezone: str
    bucket: BucketSize
    channel: str | None = None
    locale: str | None = None
    experiment_id: int | None = None  # None: the latest started experiment (see service.py)
    variant: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def buckets(self) -> list[Bucket]:
        return buckets(self.start_day, self.end_day, self.bucket, self.zone)


def _zone(name: str) -> ZoneInfo:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise FilterError("invalid_timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise FilterError("invalid_timezone") from None


def parse_filters(
    *,
    start_day: date | None,
    end_day: date | None,
    timezone: str = "UTC",
    bucket: str = "day",
    channel: str | None = None,
    locale: str | None = None,
    experiment_id: int | None = None,
    variant: str | None = None,
    now: datetime | None = None,
) -> Filters:
    """Validate the query parameters; the default range is the last 30 local days up to today."""
    zone = _zone(timezone)
    try:
        size = BucketSize(bucket)
    except ValueError:
        raise FilterError("invalid_bucket") from None
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    if end_day is not None:
        end = end_day
    elif start_day is not None:
        end = max(start_day, min(start_day + timedelta(days=DEFAULT_DAYS - 1), today))
    else:
        end = today
    start = start_day or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise FilterError("from_after_to")
    if (end - start).days + 1 > MAX_DAYS:
        raise FilterError("range_too_long")
    if channel is not None and channel not in CHANNELS:
        raise FilterError("unknown_channel")
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise FilterError("unknown_locale")
    if experiment_id is not None and experiment_id < 1:
        raise FilterError("unknown_experiment")
    if variant is not None and not 0 < len(variant) <= 32:
        raise FilterError("unknown_variant")
    return Filters(start, end, timezone, size, channel or None, locale or None, experiment_id, variant)


def _nominal_start(day: date, size: BucketSize) -> date:
    if size is BucketSize.WEEK:
        return day - timedelta(days=day.weekday())
    if size is BucketSize.MONTH:
        return day.replace(day=1)
    return day


def _next_start(start: date, size: BucketSize) -> date:
    if size is BucketSize.WEEK:
        return start + timedelta(days=7)
    if size is BucketSize.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day begins (where midnight is skipped by DST: the transition)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def buckets(start_day: date, end_day: date, size: BucketSize, zone: ZoneInfo) -> list[Bucket]:
    found = []
    nominal = _nominal_start(start_day, size)
    while nominal <= end_day:
        following = _next_start(nominal, size)
        first, last = max(nominal, start_day), min(following - timedelta(days=1), end_day)
        found.append(
            Bucket(
                label=nominal.isoformat(),
                first_day=first,
                last_day=last,
                start=local_midnight(first, zone),
                end=local_midnight(last + timedelta(days=1), zone),
            )
        )
        nominal = following
    return found
