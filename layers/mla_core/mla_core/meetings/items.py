"""A summary's items under staff review: edited, accepted or dropped; a grievance made a complaint (the
same intake as a phoned-in one: validation, reference number, SMS in the citizen's language, SLA), an
action given an owner from the team and a due date, and followed until done.

A grievance becomes one complaint however often it is asked (the complaint's idempotency key is the
item's), and the two are linked both ways: the item names its complaint (and shows its status), the
complaint's page finds the meeting and the words said through `origin_of_complaint`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from mla_core.adapters import Services
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import intake
from mla_core.core.errors import ConflictError, InvalidInputError, NotFoundError, TransientError
from mla_core.core.principal import OfficeUser
from mla_core.db import Conn
from mla_core.live import events
from mla_core.meetings import store
from mla_core.meetings.models import Item, ItemComplaint, ItemUpdate, Meeting, Segment

logger = logging.getLogger(__name__)

# Which review moves an item may make.
_MOVES = {
    "proposed": {"accepted", "dropped"},
    "accepted": {"dropped", "done", "proposed"},
    "dropped": {"proposed", "accepted"},
    "done": {"accepted"},
}


def _missing() -> NotFoundError:
    return NotFoundError("no such item in this meeting", details=[{"field": "item_id", "reason": "no_such_item"}])


def _item(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, item_id: uuid.UUID, *, lock: bool = False) -> Item:
    row = store.item(conn, tenant_id, meeting_id, item_id, lock=lock)
    if row is None:
        raise _missing()
    return Item.model_validate(row)


def review(
    services: Services,
    who: OfficeUser,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    body: ItemUpdate,
    *,
    if_match: int | None = None,
) -> Item:
    """Staff's edit of an item (`ItemUpdate`); 409 for a move the item cannot make or a stale version."""
    changes: dict[str, Any] = {k: v for k, v in body.model_dump(exclude_unset=True).items()}
    with services.db.transaction() as conn:
        current = _item(conn, who.tenant_id, meeting_id, item_id, lock=True)
        if if_match is not None and if_match != current.version:
            raise ConflictError(
                "the item changed since it was read", details=[{"field": "If-Match", "reason": "stale"}]
            )
        _check(conn, who.tenant_id, current, changes)
        if changes:
            store.update_item(conn, who.tenant_id, item_id, changes)
        updated = _item(conn, who.tenant_id, meeting_id, item_id)
    events.office_changed(services, who.tenant_id, "meeting.updated", meeting_id=str(meeting_id))
    return updated


def _check(conn: Conn, tenant_id: str, item: Item, changes: dict[str, Any]) -> None:
    status = changes.get("status")
    if status is not None and status != item.status:
        if status not in _MOVES[item.status]:
            raise ConflictError(
                f"a {item.status} item cannot become {status}", details=[{"field": "status", "reason": "move"}]
            )
        if status == "done" and item.kind != "action":
            raise InvalidInputError("only an action is done", details=[{"field": "status", "reason": "not_an_action"}])
        if item.complaint_id is not None and status in ("dropped", "proposed"):
            raise ConflictError(
                "this grievance is a complaint already: work it there",
                details=[{"field": "status", "reason": "has_complaint"}],
            )
    if item.kind != "action" and ({"owner_user_id", "due_date"} & changes.keys()):
        raise InvalidInputError(
            "only an action has an owner and a due date",
            details=[{"field": "owner_user_id", "reason": "not_an_action"}],
        )
    owner = changes.get("owner_user_id")
    if owner is not None and not _is_member(conn, tenant_id, owner):
        raise InvalidInputError(
            "the owner must be an active member of the office's team",
            details=[{"field": "owner_user_id", "reason": "not_a_member"}],
        )


def _is_member(conn: Conn, tenant_id: str, user_id: uuid.UUID) -> bool:
    row = conn.execute(
        "SELECT 1 FROM platform.users WHERE user_id = %s AND tenant_id = %s AND NOT disabled", (user_id, tenant_id)
    ).fetchone()
    return row is not None


def to_complaint(
    services: Services, who: OfficeUser, meeting_id: uuid.UUID, item_id: uuid.UUID, body: ItemComplaint
) -> Item:
    """Make a grievance a complaint, as staff confirmed it (each field the item's unless given): its
    reference, SMS and SLA as for a phoned-in complaint, channel `meeting`. Asked again, the same one."""
    with services.db.transaction() as conn:
        meeting = store.find(conn, who.tenant_id, meeting_id)
        if meeting is None:
            raise NotFoundError("meeting not found", details=[{"field": "meeting_id", "reason": "no_such_meeting"}])
        item = _item(conn, who.tenant_id, meeting_id, item_id)
        said = _segments(conn, who.tenant_id, meeting_id, item.segment_ids)
        speaker = store.participant(conn, who.tenant_id, meeting_id, item.speaker_identity or "")
    if item.complaint_id is not None:
        return item
    if item.kind != "grievance":
        raise InvalidInputError(
            "only a grievance becomes a complaint", details=[{"field": "item_id", "reason": "not_a_grievance"}]
        )
    if item.status == "dropped":
        raise ConflictError(
            "this grievance was dropped: accept it first", details=[{"field": "status", "reason": "dropped"}]
        )
    config = load_agent_config(services, who.tenant_id)
    if config is None:
        raise NotFoundError("this office has no agent configuration")
    citizen = speaker if speaker is not None and speaker.role == "citizen" else None
    draft = intake.ComplaintDraft(
        category=body.category or item.category or "",
        description=body.description or item.text,
        location=body.location or item.place or meeting.location or meeting.title,
        caller_name=body.caller_name or (citizen.name if citizen and not citizen.hall_microphone else None),
    )
    logged = intake.log_complaint(
        services,
        config,
        draft,
        idempotency_key=f"meeting-item:{item.id}",
        caller_number=body.caller_number or item.phone or (citizen.phone if citizen else None),
        language=body.language or (said[0].language if said else meeting.languages[0]),
        room_name=None,
        channel="meeting",
        logged_by=who.user_id,
    )
    with services.db.transaction() as conn:
        complaint_id = _complaint_id(conn, who.tenant_id, logged.reference)
        if complaint_id is None:  # queued while Postgres was away: linked when asked again
            raise TransientError("the complaint is being saved: ask again in a moment to link it")
        store.update_item(conn, who.tenant_id, item.id, {"complaint_id": complaint_id, "status": "accepted"})
        linked = _item(conn, who.tenant_id, meeting_id, item_id)
    logger.info(
        "meeting grievance made a complaint",
        extra={"tenant_id": who.tenant_id, "meeting_id": str(meeting_id), "reference": logged.reference},
    )
    events.office_changed(services, who.tenant_id, "meeting.updated", meeting_id=str(meeting_id))
    return linked


def _segments(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, ids: list[int]) -> list[Segment]:
    return store.segments(conn, tenant_id, meeting_id, only=ids)


def _complaint_id(conn: Conn, tenant_id: str, reference: int) -> uuid.UUID | None:
    from psycopg import sql

    row = conn.execute(
        sql.SQL("SELECT id FROM {} WHERE reference = %s").format(store.table(tenant_id, "complaints")), (reference,)
    ).fetchone()
    return row["id"] if row else None


@dataclass(frozen=True)
class ComplaintOrigin:
    """Where a complaint raised at a meeting came from: the meeting, the item and the words said."""

    meeting: Meeting
    item: Item
    segments: list[Segment]


def origin_of_complaint(services: Services, tenant_id: str, complaint_id: uuid.UUID) -> ComplaintOrigin | None:
    from psycopg import sql

    with services.db.transaction() as conn:
        row = conn.execute(
            sql.SQL("SELECT meeting_id, id FROM {} WHERE complaint_id = %s").format(
                store.table(tenant_id, "meeting_items")
            ),
            (complaint_id,),
        ).fetchone()
        if row is None:
            return None
        meeting = store.find(conn, tenant_id, row["meeting_id"])
        item = _item(conn, tenant_id, row["meeting_id"], row["id"])
        said = _segments(conn, tenant_id, row["meeting_id"], item.segment_ids)
    assert meeting is not None
    return ComplaintOrigin(meeting=meeting, item=item, segments=said)
