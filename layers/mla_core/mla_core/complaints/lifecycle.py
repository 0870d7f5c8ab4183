"""The complaint lifecycle: which status may follow which.

new → acknowledged → assigned → in_progress → resolved → closed, with `duplicate` (of another
complaint) and `transferred` (to the responsible authority: a grievance is never closed as "not
ours") from any open status, and `reopened` from resolved or closed.
"""

from __future__ import annotations

from typing import Literal, cast, get_args

Status = Literal[  # in the order the dashboard shows them
    "new", "acknowledged", "assigned", "in_progress", "resolved", "closed", "reopened", "duplicate", "transferred"
]

OPEN: tuple[Status, ...] = ("new", "acknowledged", "assigned", "in_progress", "reopened")

TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    "new": ("acknowledged", "assigned", "duplicate", "transferred"),
    "acknowledged": ("assigned", "in_progress", "duplicate", "transferred"),
    "assigned": ("in_progress", "resolved", "duplicate", "transferred"),
    "in_progress": ("resolved", "assigned", "duplicate", "transferred"),
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("assigned", "in_progress", "resolved", "duplicate", "transferred"),
    "duplicate": (),
    "transferred": (),
}

STATUSES: tuple[Status, ...] = get_args(Status)


def allowed(from_status: str) -> tuple[Status, ...]:
    """The statuses a complaint in `from_status` may move to (none for an unknown status)."""
    return TRANSITIONS.get(cast("Status", from_status), ())
