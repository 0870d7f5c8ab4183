"""The complaint lifecycle: which status may follow which.

new → acknowledged → assigned → in_progress → resolved → closed, with `duplicate` (of another
complaint) and `transferred` (to the responsible authority: a grievance is never closed as "not
ours") from any open status, and `reopened` from resolved or closed.
"""

from __future__ import annotations

OPEN = ("new", "acknowledged", "assigned", "in_progress", "reopened")

TRANSITIONS: dict[str, tuple[str, ...]] = {
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

STATUSES = tuple(TRANSITIONS)


def allowed(from_status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(from_status, ())
