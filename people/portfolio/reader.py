"""Reading a portfolio file: UTF-8 CSV with a header, or JSON Lines (a `.jsonl` name), as
(line, fields) records; a record the format cannot split is one field "" with the reason."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from people.portfolio.rows import COLUMNS, REQUIRED


class Unreadable(Exception):
    """The file as a whole cannot be read (not UTF-8, no header, required columns missing)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def records(data: bytes, filename: str) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The file's columns outside the format (to warn about) and its records as (line, fields).
    Raises Unreadable before any record is produced."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable("not_utf8", f"byte {exc.start}") from exc
    if filename.lower().endswith(".jsonl"):
        return _jsonl(text)
    return _csv(text)


def _csv(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise Unreadable("no_header") from exc
    if missing := [c for c in REQUIRED if c not in header]:
        raise Unreadable("missing_columns", ", ".join(missing))

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        previous = reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield previous + 1, {"": "malformed_csv"}
                previous = reader.line_num
                continue
            line, previous = previous + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                yield line, {"": "field_count"}
                continue
            yield line, dict(zip(header, fields, strict=True))

    return [h for h in header if h not in COLUMNS], rows()


def _jsonl(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    lines = text.splitlines()
    extra: list[str] = []
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=str)  # amounts keep their exact digits
        except ValueError:
            value = None
        if not isinstance(value, dict):
            parsed.append((number, {"": "invalid_json"}))
            continue
        fields = {str(k).strip().lower(): v for k, v in value.items()}
        extra += [k for k in fields if k not in COLUMNS and k not in extra]
        parsed.append((number, fields))
    return extra, iter(parsed)
