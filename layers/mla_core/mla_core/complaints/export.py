"""The office's complaints as a CSV file: the list's filters and order, every matching row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from mla_core.adapters import Services
from mla_core.complaints import store
from mla_core.complaints.models import ComplaintFilters

HEADER = [*store.COLUMNS, "overdue"]


def export_rows(services: Services, tenant_id: str, filters: ComplaintFilters) -> Iterator[str]:
    """The filtered list as CSV lines (the header first), streamed: memory stays flat however many.

    The query runs before this returns, so that a failure to run it (the database down) is an error
    answered before the file's first byte, not a file cut off after its header."""
    rows = _rows(services, tenant_id, filters)
    first = next(rows, None)
    return _lines(first, rows)


def _rows(services: Services, tenant_id: str, filters: ComplaintFilters) -> Iterator[dict[str, Any]]:
    with services.db.transaction() as conn:
        yield from store.stream(conn, tenant_id, filters)


def _lines(first: dict[str, Any] | None, rest: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(HEADER)
    if first is None:
        return
    yield line([first[column] for column in HEADER])
    for row in rest:
        yield line([row[column] for column in HEADER])
