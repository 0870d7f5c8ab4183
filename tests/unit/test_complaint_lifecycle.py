"""Every move between two statuses, allowed or refused, through the rules a PATCH runs."""

from __future__ import annotations

from typing import Any

import pytest
from factories import NOW, complaint

from mla_core.complaints import lifecycle
from mla_core.complaints.changes import plan_change
from mla_core.complaints.models import ComplaintPatch
from mla_core.core.errors import ConflictError, InvalidInputError

# The lifecycle as the office knows it, written out here on purpose (not read from the module).
EXPECTED = {
    "new": {"acknowledged", "assigned", "duplicate", "transferred"},
    "acknowledged": {"assigned", "in_progress", "duplicate", "transferred"},
    "assigned": {"in_progress", "resolved", "duplicate", "transferred"},
    "in_progress": {"resolved", "assigned", "duplicate", "transferred"},
    "resolved": {"closed", "reopened"},
    "closed": {"reopened"},
    "reopened": {"assigned", "in_progress", "resolved", "duplicate", "transferred"},
    "duplicate": set(),
    "transferred": set(),
}
MOVES = [(frm, to) for frm in lifecycle.STATUSES for to in lifecycle.STATUSES if frm != to]


def move(frm: str, to: str) -> Any:
    """Ask for `frm` → `to` with whatever that status needs (an original, an authority and a note)."""
    current, original = complaint(status=frm), complaint(reference=1000)
    patch = ComplaintPatch(status=to, duplicate_of="1000", transferred_to="TNEB Mylapore", note="Transformer fault")
    return plan_change(current, patch, now=NOW, categories={"water"}, original=original)


def test_the_lifecycle_names_every_status_once_in_the_order_the_dashboard_shows() -> None:
    assert set(lifecycle.TRANSITIONS) == set(lifecycle.STATUSES) == set(EXPECTED)
    assert lifecycle.STATUSES[:3] == ("new", "acknowledged", "assigned")
    assert set(lifecycle.OPEN) == {s for s, nexts in EXPECTED.items() if nexts and s not in ("resolved", "closed")}


@pytest.mark.parametrize(("frm", "to"), [m for m in MOVES if m[1] in EXPECTED[m[0]]])
def test_an_allowed_move_sets_the_status_and_is_told(frm: str, to: str) -> None:
    change = move(frm, to)

    assert change.columns["status"] == to
    assert change.notify == to
    assert [(e.event_type, e.from_status, e.to_status) for e in change.events][-1] == ("status_changed", frm, to)


@pytest.mark.parametrize(("frm", "to"), [m for m in MOVES if m[1] not in EXPECTED[m[0]]])
def test_a_refused_move_is_a_conflict_that_lists_the_allowed_ones(frm: str, to: str) -> None:
    with pytest.raises(ConflictError) as refused:
        move(frm, to)

    assert refused.value.message == f"a {frm} complaint cannot become {to}"
    [detail] = refused.value.details
    assert detail["field"] == "status" and detail["reason"] == "invalid_transition"
    assert set(detail["allowed"]) == EXPECTED[frm]
    assert detail["allowed"] == list(lifecycle.allowed(frm))


@pytest.mark.parametrize("status", lifecycle.STATUSES)
def test_asking_for_the_status_a_complaint_already_has_changes_nothing(status: str) -> None:
    with pytest.raises(InvalidInputError, match="nothing to change"):
        plan_change(complaint(status=status), ComplaintPatch(status=status), now=NOW, categories=set())


def test_an_unknown_status_allows_nothing() -> None:
    assert lifecycle.allowed("sleeping") == ()
