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
    """The filtered list as CSV lines (the header first), streamed: memory stays flat however many."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(HEADER)
    with services.db.transaction() as conn:
        for row in store.stream(conn, tenant_id, filters):
            yield line([row[column] for column in HEADER])
