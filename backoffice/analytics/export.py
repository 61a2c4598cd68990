"""The dashboard as CSV: a header row, then one row per bucket x dimension value (and the whole
range as bucket "total") with every metric; money as one column per currency.

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) are prefixed with an apostrophe; numbers are written as they are.
"""

from __future__ import annotations

import csv
import io

from backoffice.analytics.metrics import NUMBERS, Report, flat
from core.spreadsheet import safe
from money.ledger.money import from_minor


def zero(currency: str) -> str:
    return str(from_minor(0, currency))


def header(report: Report) -> list[str]:
    currencies = report.currencies()
    return [
        "bucket",
        "from",
        "to",
        "timezone",
        "dimension",
        "value",
        *NUMBERS,
        *(f"amount_collected_{c}" for c in currencies),
        *(f"amount_refunded_{c}" for c in currencies),
    ]


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header(report))
    currencies = report.currencies()
    filters = report.filters
    for bucket, dimension, value, metrics in report.rows():
        if bucket is None:
            label, first, last = "total", filters.start_day, filters.end_day
        else:
            label, first, last = bucket.label, bucket.first_day, bucket.last_day
        numbers = flat(metrics)
        writer.writerow(
            [
                label,
                first.isoformat(),
                last.isoformat(),
                safe(filters.timezone),
                dimension,
                safe(value),
                *(safe(numbers[n]) for n in NUMBERS),
                *(metrics["amount_collected"].get(c, zero(c)) for c in currencies),
                *(metrics["amount_refunded"].get(c, zero(c)) for c in currencies),
            ]
        )
    return buffer.getvalue()


def filename(report: Report) -> str:
    f = report.filters
    return f"dashboard_{f.start_day.isoformat()}_{f.end_day.isoformat()}_{f.bucket.value}.csv"
