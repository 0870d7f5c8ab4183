"""A change to a complaint (the office's PATCH), planned before anything is written.

The rules are plain functions over plain values: which status may follow which (`lifecycle`), what
each status stamps on the row, what a duplicate and a transfer need, a known category, an assignee
who is an active member. What they need from the database (the locked row, a duplicate's
original, whether the assignee is a member) is read first, in the transaction that then writes
the plan (`store.apply_change`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from mla_core.complaints import lifecycle
from mla_core.complaints.lifecycle import Status
from mla_core.complaints.models import ComplaintChange, ComplaintPatch, ComplaintRow, Event, TimelineEvent
from mla_core.core.errors import ConflictError, InvalidInputError, NotFoundError

# The timestamp a status sets on the row when a complaint reaches it.
_STAMPED: dict[str, str] = {"acknowledged": "acknowledged_at", "resolved": "resolved_at", "closed": "closed_at"}


def expected_version(patch: ComplaintPatch, if_match: int | None) -> int:
    """The version the client read: in the body, else in its If-Match header; one is required."""
    expected = patch.version if patch.version is not None else if_match
    if expected is None:
        raise InvalidInputError(
            "send the version you read (field `version` or an If-Match header)",
            details=[{"field": "version", "reason": "required"}],
        )
    return expected


def check_version(current: ComplaintRow, expected: int) -> None:
    """A change made against an older version than the stored one is refused, never merged."""
    if current["version"] != expected:
        raise ConflictError(
            "someone else changed this complaint first; reload it and try again",
            details=[{"field": "version", "reason": "stale", "current_version": current["version"]}],
        )


def check_original(current: ComplaintRow, named: str | None, original: ComplaintRow | None) -> ComplaintRow:
    """The complaint `current` may be marked a duplicate of (`original`, what `named` names), or the
    error that refuses it, each about the field `duplicate_of`: none named, none of this office's
    (another office's reference is not found here either), itself, or itself a duplicate."""
    if not named:
        raise InvalidInputError(
            "say which complaint this duplicates", details=[{"field": "duplicate_of", "reason": "required"}]
        )
    if original is None:
        raise NotFoundError("complaint not found", details=[{"field": "duplicate_of", "reason": "no_such_complaint"}])
    if original["id"] == current["id"]:
        raise InvalidInputError(
            "a complaint cannot duplicate itself", details=[{"field": "duplicate_of", "reason": "self"}]
        )
    if original["status"] == "duplicate":  # no chains, and no two complaints duplicating each other
        raise ConflictError(
            "that complaint is itself a duplicate; mark this one a duplicate of its original",
            details=[{"field": "duplicate_of", "reason": "is_duplicate", "original": str(original["duplicate_of"])}],
        )
    return original


def status_before_duplicate(timeline: Sequence[TimelineEvent]) -> Status:
    """The open status a duplicate had when it was marked one (the last move to `duplicate`)."""
    for event in reversed(timeline):
        if event["event_type"] == "status_changed" and event["to_status"] == "duplicate":
            before = event["from_status"]
            return before if before in lifecycle.OPEN else "reopened"
    return "new"


def plan_undo_duplicate(current: ComplaintRow, *, note: str, back_to: Status) -> ComplaintChange:
    """Undoing a wrong duplicate: the complaint returns to `back_to` (the status it had) and stands on
    its own again, its original loses the supporter it gained, and both timelines say so (`note`
    saying why). Anything but a duplicate is refused."""
    if current["status"] != "duplicate" or current["duplicate_of"] is None:
        raise ConflictError("only a duplicate can be undone", details=[{"field": "status", "reason": "not_duplicate"}])
    original, this = current["duplicate_of"], current["id"]
    events = [
        Event(original, "duplicate_unlinked", data={"duplicate": str(this)}),
        Event(this, "duplicate_undone", "duplicate", back_to, note=note, data={"original": str(original)}),
    ]
    return ComplaintChange({"status": back_to, "duplicate_of": None}, events, released=original)


def plan_change(
    current: ComplaintRow,
    patch: ComplaintPatch,
    *,
    now: datetime,
    categories: Collection[str],
    original: ComplaintRow | None = None,
    assignee_active: bool = False,
) -> ComplaintChange:
    """What `patch` does to `current`, or the error that refuses it.

    `categories` are the codes the office's agent knows; `original` is the complaint that
    `patch.duplicate_of` names (None when there is none); `assignee_active` says whether
    `patch.assigned_to` is an active member of the office.
    """
    this = current["id"]
    columns: dict[str, Any] = {}
    events: list[Event] = []
    if patch.status and patch.status != current["status"]:
        columns |= _status_columns(current, patch, patch.status, now=now, original=original)
        if "duplicate_of" in columns:
            events.append(Event(columns["duplicate_of"], "duplicate_linked", data={"duplicate": str(this)}))
        events.append(Event(this, "status_changed", current["status"], patch.status, note=patch.note))
    if patch.assigned_to or patch.unassign:
        assignee = None if patch.unassign else patch.assigned_to
        if assignee is not None and not assignee_active:
            raise InvalidInputError(
                "assignee is not an active member of this office",
                details=[{"field": "assigned_to", "reason": "unknown_user"}],
            )
        columns["assigned_to"] = assignee
        events.append(Event(this, "assigned", data={"assigned_to": str(assignee) if assignee else None}))
    if patch.priority and patch.priority != current["priority"]:
        columns["priority"] = patch.priority
        events.append(Event(this, "priority_changed", data={"priority": patch.priority}))
    if patch.category and patch.category != current["category"]:
        if patch.category not in categories:
            raise InvalidInputError("unknown category", details=[{"field": "category", "reason": "unknown"}])
        columns["category"] = patch.category
        events.append(Event(this, "category_changed", data={"category": patch.category}))
    if patch.sla_due_at:
        columns["sla_due_at"] = patch.sla_due_at
        events.append(Event(this, "sla_changed", data={"sla_due_at": patch.sla_due_at.isoformat()}))
    if patch.note and not patch.status:
        events.append(Event(this, "note", note=patch.note))
    if not columns and not patch.note:
        raise InvalidInputError("nothing to change", details=[{"field": "body", "reason": "empty"}])
    return ComplaintChange(columns, events, original=columns.get("duplicate_of"), notify=columns.get("status"))


def _status_columns(
    current: ComplaintRow, patch: ComplaintPatch, to: Status, *, now: datetime, original: ComplaintRow | None
) -> dict[str, Any]:
    """The columns a move to status `to` sets, if the lifecycle and the status's needs allow it."""
    frm = current["status"]
    if to not in lifecycle.allowed(frm):
        raise ConflictError(
            f"a {frm} complaint cannot become {to}",
            details=[{"field": "status", "reason": "invalid_transition", "allowed": list(lifecycle.allowed(frm))}],
        )
    if to == "duplicate":
        return {"status": to, "duplicate_of": check_original(current, patch.duplicate_of, original)["id"]}
    if to == "transferred":
        missing = [name for name in ("transferred_to", "note") if not getattr(patch, name)]
        if missing:
            raise InvalidInputError(
                "a transfer needs the authority it goes to and a note",
                details=[{"field": name, "reason": "required"} for name in missing],
            )
        return {"status": to, "transferred_to": patch.transferred_to}
    if to == "reopened":
        return {"status": to, "resolved_at": None, "closed_at": None}
    return {"status": to, **({_STAMPED[to]: now} if to in _STAMPED else {})}
