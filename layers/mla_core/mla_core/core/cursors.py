"""Keyset cursors: where the next page starts, opaque to the client.

A cursor is the sort it belongs to and the sort key of the page's last row, as JSON in URL-safe
base64. A cursor of another sort, or anything that is not one of ours, is the same input error.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from mla_core.core.errors import InvalidInputError

Row = TypeVar("Row")


def encode(sort: str, *key: datetime | uuid.UUID | str) -> str:
    """The cursor after the row whose sort key is `key` (datetimes and UUIDs written as text)."""
    values = [value.isoformat() if isinstance(value, datetime) else str(value) for value in key]
    raw = json.dumps([sort, *values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, sort: str, *parsers: Callable[[str], Any]) -> tuple[Any, ...]:
    """The key in `cursor`, each part read by its parser (e.g. `datetime.fromisoformat`, `uuid.UUID`).

    Raises `InvalidInputError` (field `cursor`, reason `invalid_cursor`) for a cursor of another
    sort, with another number of parts, or that is not a cursor at all.
    """
    try:
        found_sort, *key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if found_sort != sort or not all(isinstance(value, str) for value in key):
            raise ValueError("cursor of another sort")
        return tuple(parse(value) for parse, value in zip(parsers, key, strict=True))
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            "cursor is not valid", details=[{"field": "cursor", "reason": "invalid_cursor"}]
        ) from exc


def paginate(rows: list[Row], limit: int, cursor_after: Callable[[Row], str]) -> tuple[list[Row], str | None]:
    """A page of `rows` (read one longer than `limit`, to know whether another follows), and the
    cursor after its last row when another does."""
    return rows[:limit], cursor_after(rows[limit - 1]) if len(rows) > limit else None
