"""Keyset cursors: what one page hands the next, and what a client may not forge."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest
from factories import NOW, complaint

from mla_core.complaints import search
from mla_core.complaints.models import ComplaintFilters
from mla_core.core import cursors
from mla_core.core.errors import InvalidInputError

ID = uuid.UUID("7f1c2a4e-5b6d-4e8f-9a0b-1c2d3e4f5a6b")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_round_trips_its_sort_key() -> None:
    complaints = cursors.encode("newest", NOW, ID)
    tenants = cursors.encode("newest", NOW, "tn0000001a")

    assert "=" not in complaints
    assert cursors.decode(complaints, "newest", datetime.fromisoformat, uuid.UUID) == (NOW, ID)
    assert cursors.decode(tenants, "newest", datetime.fromisoformat, str) == (NOW, "tn0000001a")


@pytest.mark.parametrize(
    "cursor",
    [
        cursors.encode("oldest", NOW, ID),  # another sort's
        cursors.encode("newest", NOW),  # a part missing
        cursors.encode("newest", NOW, ID, "more"),  # a part too many
        cursors.encode("newest", "yesterday", ID),  # not a time
        cursors.encode("newest", NOW, "not-a-uuid"),
        "nonsense",
        "garbage!",
        "é",
        "",
        b64(b"not json"),
        b64(b"42"),
        b64(b'{"sort": "newest"}'),
        b64(b'["newest", 5, "7f1c2a4e-5b6d-4e8f-9a0b-1c2d3e4f5a6b"]'),
        b64(b"[]"),
        b64(b"\xff\xfe"),
    ],
)
def test_anything_but_a_cursor_of_this_sort_is_the_same_input_error(cursor: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        cursors.decode(cursor, "newest", datetime.fromisoformat, uuid.UUID)

    assert refused.value.message == "cursor is not valid"
    assert refused.value.details == [{"field": "cursor", "reason": "invalid_cursor"}]


def test_a_page_has_a_next_cursor_only_when_one_more_row_was_read() -> None:
    def after(row: int) -> str:
        return f"after {row}"

    assert cursors.paginate([1, 2, 3], 2, after) == ([1, 2], "after 2")
    assert cursors.paginate([1, 2], 2, after) == ([1, 2], None)
    assert cursors.paginate([], 2, after) == ([], None)


def test_the_complaint_list_reads_its_cursor_back_into_the_keyset_condition() -> None:
    row = complaint(id=ID, created_at=NOW, sla_due_at=None)
    for sort, key in (("newest", NOW), ("oldest", NOW), ("sla_due", "infinity")):
        filters = ComplaintFilters(sort=sort, limit=10, cursor=search.cursor_after(sort, row))
        _, params = search.list_query("abcde12345", filters)
        assert params == [key, ID, 11], sort


def test_a_cursor_of_the_newest_first_list_is_refused_by_the_sla_ordered_one() -> None:
    filters = ComplaintFilters(sort="sla_due", cursor=search.cursor_after("newest", complaint()))
    with pytest.raises(InvalidInputError):
        search.list_query("abcde12345", filters)


def test_an_sla_due_cursor_keeps_the_due_time() -> None:
    due = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
    cursor = search.cursor_after("sla_due", complaint(id=ID, sla_due_at=due))
    _, params = search.list_query("abcde12345", ComplaintFilters(sort="sla_due", cursor=cursor))
    assert params[:2] == [due, ID]
