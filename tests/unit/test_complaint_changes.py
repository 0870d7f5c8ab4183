"""The office's PATCH, planned without a database: each rule, and each refusal as the client sees it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import NOW, complaint

from mla_core.complaints.changes import check_version, expected_version, plan_change
from mla_core.complaints.models import ComplaintChange, ComplaintPatch, ComplaintRow, Event
from mla_core.core.errors import AppError, ConflictError, InvalidInputError, NotFoundError

MEMBER = uuid.uuid4()


def plan(current: ComplaintRow | None = None, **patch: Any) -> ComplaintChange:
    lookups = {k: patch.pop(k) for k in ("original", "assignee_active") if k in patch}
    return plan_change(
        current or complaint(), ComplaintPatch(**patch), now=NOW, categories={"water", "roads"}, **lookups
    )


def refusal(error: type[AppError], **patch: Any) -> AppError:
    current = patch.pop("current", None)
    with pytest.raises(error) as refused:
        plan(current, **patch)
    return refused.value


def test_the_version_comes_from_the_body_else_from_if_match_and_is_required() -> None:
    assert expected_version(ComplaintPatch(version=4), if_match=2) == 4
    assert expected_version(ComplaintPatch(), if_match=2) == 2
    with pytest.raises(InvalidInputError) as missing:
        expected_version(ComplaintPatch(priority="high"), if_match=None)
    assert missing.value.message == "send the version you read (field `version` or an If-Match header)"
    assert missing.value.details == [{"field": "version", "reason": "required"}]


def test_a_stale_version_is_a_conflict_that_tells_the_current_one() -> None:
    check_version(complaint(version=3), 3)
    with pytest.raises(ConflictError) as stale:
        check_version(complaint(version=3), 2)
    assert stale.value.message == "someone else changed this complaint first; reload it and try again"
    assert stale.value.details == [{"field": "version", "reason": "stale", "current_version": 3}]


@pytest.mark.parametrize(
    ("frm", "to", "stamps"),
    [
        ("new", "acknowledged", {"acknowledged_at": NOW}),
        ("assigned", "resolved", {"resolved_at": NOW}),
        ("resolved", "closed", {"closed_at": NOW}),
        ("closed", "reopened", {"resolved_at": None, "closed_at": None}),
        ("new", "assigned", {}),
        ("acknowledged", "in_progress", {}),
    ],
)
def test_a_status_stamps_its_time_and_reopening_clears_them(frm: str, to: str, stamps: dict[str, Any]) -> None:
    assert plan(complaint(status=frm), status=to).columns == {"status": to, **stamps}


def test_a_status_change_is_one_event_with_its_note_and_is_told_by_sms() -> None:
    current = complaint(status="new")
    change = plan(current, status="acknowledged", note="Called the AE")

    [event] = change.events
    assert event == Event(current["id"], "status_changed", "new", "acknowledged", note="Called the AE")
    assert change.notify == "acknowledged" and change.original is None


def test_a_duplicate_links_its_original_which_gains_a_supporter() -> None:
    current, original = complaint(), complaint(reference=900)
    change = plan(current, status="duplicate", duplicate_of="900", original=original)

    assert change.columns == {"status": "duplicate", "duplicate_of": original["id"]}
    assert change.original == original["id"]
    assert change.events == [
        Event(original["id"], "duplicate_linked", data={"duplicate": str(current["id"])}),
        Event(current["id"], "status_changed", "new", "duplicate"),
    ]


def test_a_duplicate_needs_an_original_that_exists_and_is_another_complaint() -> None:
    current = complaint()
    unnamed = refusal(InvalidInputError, status="duplicate")
    assert unnamed.message == "say which complaint this duplicates"
    assert unnamed.details == [{"field": "duplicate_of", "reason": "required"}]

    absent = refusal(NotFoundError, status="duplicate", duplicate_of="424242", original=None)
    assert absent.message == "complaint not found"

    itself = refusal(InvalidInputError, current=current, status="duplicate", duplicate_of="1001", original=current)
    assert itself.message == "a complaint cannot duplicate itself"
    assert itself.details == [{"field": "duplicate_of", "reason": "self"}]


def test_a_duplicate_cannot_name_a_complaint_that_is_itself_a_duplicate() -> None:
    first = complaint(reference=900)
    merged = complaint(reference=901, status="duplicate", duplicate_of=first["id"])
    refused = refusal(ConflictError, status="duplicate", duplicate_of="901", original=merged)
    assert refused.details == [{"field": "duplicate_of", "reason": "is_duplicate", "original": str(first["id"])}]


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({}, ["transferred_to", "note"]),
        ({"transferred_to": "TNEB"}, ["note"]),
        ({"note": "Their wire"}, ["transferred_to"]),
    ],
)
def test_a_transfer_needs_the_authority_and_a_note(given: dict[str, str], missing: list[str]) -> None:
    refused = refusal(InvalidInputError, status="transferred", **given)
    assert refused.message == "a transfer needs the authority it goes to and a note"
    assert refused.details == [{"field": name, "reason": "required"} for name in missing]


def test_a_transfer_records_the_authority() -> None:
    change = plan(status="transferred", transferred_to="TNEB Mylapore", note="Transformer fault")
    assert change.columns == {"status": "transferred", "transferred_to": "TNEB Mylapore"}


def test_an_assignee_must_be_an_active_member_and_unassigning_needs_no_one() -> None:
    assigned = plan(assigned_to=str(MEMBER), assignee_active=True)
    assert assigned.columns == {"assigned_to": MEMBER}
    assert [(e.event_type, e.data) for e in assigned.events] == [("assigned", {"assigned_to": str(MEMBER)})]
    assert assigned.notify is None

    stranger = refusal(InvalidInputError, assigned_to=str(uuid.uuid4()), assignee_active=False)
    assert stranger.message == "assignee is not an active member of this office"
    assert stranger.details == [{"field": "assigned_to", "reason": "unknown_user"}]

    unassigned = plan(complaint(assigned_to=MEMBER), unassign=True, assigned_to=str(uuid.uuid4()))
    assert unassigned.columns == {"assigned_to": None}
    assert [e.data for e in unassigned.events] == [{"assigned_to": None}]


def test_priority_category_and_sla_each_change_with_an_event_when_they_differ() -> None:
    due = datetime(2025, 3, 8, 18, 0, tzinfo=UTC)
    change = plan(priority="urgent", category="roads", sla_due_at=due)

    assert change.columns == {"priority": "urgent", "category": "roads", "sla_due_at": due}
    assert [(e.event_type, e.data) for e in change.events] == [
        ("priority_changed", {"priority": "urgent"}),
        ("category_changed", {"category": "roads"}),
        ("sla_changed", {"sla_due_at": due.isoformat()}),
    ]
    with pytest.raises(InvalidInputError, match="nothing to change"):
        plan(priority="normal", category="water")  # what the complaint already has


def test_an_unknown_category_is_refused() -> None:
    refused = refusal(InvalidInputError, category="aliens")
    assert refused.message == "unknown category"
    assert refused.details == [{"field": "category", "reason": "unknown"}]


def test_a_note_alone_is_an_event_and_changes_no_column() -> None:
    change = plan(note="Called the AE")
    assert change.columns == {}
    assert [(e.event_type, e.note) for e in change.events] == [("note", "Called the AE")]


def test_an_empty_patch_is_refused() -> None:
    refused = refusal(InvalidInputError)
    assert refused.message == "nothing to change"
    assert refused.details == [{"field": "body", "reason": "empty"}]


def test_the_status_rule_is_checked_before_the_others() -> None:
    refusal(ConflictError, current=complaint(status="closed"), status="resolved", category="aliens")
    refusal(NotFoundError, status="duplicate", duplicate_of="9", original=None, assigned_to=str(MEMBER))


def test_one_patch_changes_several_things_in_a_fixed_order() -> None:
    change = plan(status="assigned", assigned_to=str(MEMBER), assignee_active=True, priority="high", note="Urgent")

    assert change.columns == {"status": "assigned", "assigned_to": MEMBER, "priority": "high"}
    assert [e.event_type for e in change.events] == ["status_changed", "assigned", "priority_changed"]
    assert change.events[0].note == "Urgent"
