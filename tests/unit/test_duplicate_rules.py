"""A duplicate's original named as people write it, checked by the same rules before and when it is
marked, and a wrong duplicate undone: planned without a database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from factories import NOW, complaint

from mla_core.complaints.changes import check_original, plan_undo_duplicate, status_before_duplicate
from mla_core.complaints.models import ComplaintPatch, Event, TimelineEvent
from mla_core.core.errors import ConflictError, InvalidInputError, NotFoundError


@pytest.mark.parametrize("written", ["#1002", "1002", " #1002 ", "# 1002"])
def test_the_original_is_taken_as_the_list_writes_it_or_as_a_bare_number(written: str) -> None:
    assert ComplaintPatch(status="duplicate", duplicate_of=written).duplicate_of == "1002"


def test_an_original_is_checked_by_the_rules_a_patch_runs_each_about_its_field() -> None:
    current, original = complaint(), complaint(reference=1002)
    assert check_original(current, "1002", original) is original
    with pytest.raises(NotFoundError) as absent:
        check_original(current, "9999", None)
    assert absent.value.details == [{"field": "duplicate_of", "reason": "no_such_complaint"}]
    with pytest.raises(InvalidInputError) as itself:
        check_original(current, "1001", current)
    assert itself.value.details == [{"field": "duplicate_of", "reason": "self"}]
    with pytest.raises(InvalidInputError) as unnamed:
        check_original(current, None, None)
    assert unnamed.value.details == [{"field": "duplicate_of", "reason": "required"}]
    merged = complaint(reference=1003, status="duplicate", duplicate_of=original["id"])
    with pytest.raises(ConflictError) as chained:
        check_original(current, "1003", merged)
    assert chained.value.details[0]["reason"] == "is_duplicate"


def event(event_type: str, frm: str | None = None, to: str | None = None, minutes: int = 0) -> TimelineEvent:
    return {
        "event_type": event_type, "from_status": frm, "to_status": to, "actor_type": "user", "actor_id": None,
        "note": None, "data": {}, "created_at": NOW + timedelta(minutes=minutes),
    }  # type: ignore[typeddict-item]  # fmt: skip


def test_an_undone_duplicate_goes_back_to_the_status_it_had() -> None:
    timeline = [event("created", to="new"), event("status_changed", "new", "assigned", 1),
                event("status_changed", "assigned", "duplicate", 2)]  # fmt: skip
    assert status_before_duplicate(timeline) == "assigned"
    assert status_before_duplicate([event("created", to="new")]) == "new"


def test_undoing_a_duplicate_frees_it_from_its_original_which_loses_the_supporter() -> None:
    original = uuid.uuid4()
    current = complaint(status="duplicate", duplicate_of=original)

    change = plan_undo_duplicate(current, note="Different street", back_to="acknowledged")

    assert change.columns == {"status": "acknowledged", "duplicate_of": None}
    assert change.released == original and change.original is None and change.notify is None
    assert change.events == [
        Event(original, "duplicate_unlinked", data={"duplicate": str(current["id"])}),
        Event(current["id"], "duplicate_undone", "duplicate", "acknowledged", note="Different street",
              data={"original": str(original)}),
    ]  # fmt: skip


@pytest.mark.parametrize("status", ["new", "resolved", "transferred"])
def test_only_a_duplicate_can_be_undone(status: Any) -> None:
    with pytest.raises(ConflictError) as refused:
        plan_undo_duplicate(complaint(status=status), note="why", back_to="new")
    assert refused.value.details == [{"field": "status", "reason": "not_duplicate"}]
