"""The MLA office's work on one complaint: read it, change it, note on it, or log one by hand.

Each action is one transaction over the store; the rules of a change are `changes.plan_change`.
Finding complaints is `search`, the CSV file `export`, the overview `stats`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import cast

from mla_core.adapters import Services
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import changes, intake, sms, store
from mla_core.complaints.models import (
    ComplaintDetail,
    ComplaintLink,
    ComplaintPatch,
    ComplaintRow,
    Event,
    ManualComplaint,
    TimelineEvent,
    UndoDuplicate,
)
from mla_core.core.errors import NotFoundError
from mla_core.core.principal import OfficeUser
from mla_core.db import Conn
from mla_core.live import events


def _find(conn: Conn, tenant_id: str, id_or_reference: str, *, lock: bool = False) -> ComplaintRow:
    found = store.find(conn, tenant_id, id_or_reference, lock=lock)
    if found is None:
        raise NotFoundError("complaint not found")
    return found


def _lock(
    conn: Conn, tenant_id: str, id_or_reference: str, patch: ComplaintPatch
) -> tuple[ComplaintRow, ComplaintRow | None]:
    """The complaint a change is for, and the one it would duplicate (None if none, or absent), locked
    together in id order: two complaints marked duplicates of each other at once (A of B, B of A)
    then wait for each other instead of deadlocking."""
    if not (patch.status == "duplicate" and patch.duplicate_of):
        return _find(conn, tenant_id, id_or_reference, lock=True), None
    locked = store.lock_in_order(conn, tenant_id, [id_or_reference, patch.duplicate_of])
    if id_or_reference not in locked:
        raise NotFoundError("complaint not found")
    return locked[id_or_reference], locked.get(patch.duplicate_of)


def get_complaint(services: Services, tenant_id: str, id_or_reference: str) -> ComplaintDetail:
    """The complaint with its timeline (each user who acted by name), its call and its
    notifications; a duplicate's original, and the duplicates an original has now."""
    with services.db.transaction() as conn:
        complaint = _find(conn, tenant_id, id_or_reference)
        complaint_id = complaint["id"]
        timeline = _named(conn, tenant_id, store.timeline(conn, tenant_id, complaint_id))
        original = complaint["duplicate_of"]
        return {
            **complaint,
            "timeline": timeline,
            "call": store.call(conn, tenant_id, complaint_id),
            "notifications": store.notifications(conn, tenant_id, complaint_id),
            "original": next(iter(store.links(conn, tenant_id, [original])), None) if original else None,
            "duplicates": store.links(conn, tenant_id, _linked(timeline), duplicates_of=complaint_id),
        }


def _named(conn: Conn, tenant_id: str, timeline: list[TimelineEvent]) -> list[TimelineEvent]:
    """The timeline with each office user who acted named (`actor_name`; None for one no longer known)."""
    ids = {e["actor_id"] for e in timeline if e["actor_type"] == "user" and e["actor_id"]}
    names = store.people_named(conn, tenant_id, [uuid.UUID(i) for i in ids if _is_uuid(i)])
    return [{**e, "actor_name": names.get(e["actor_id"] or "")} for e in timeline]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _linked(timeline: list[TimelineEvent]) -> list[uuid.UUID]:
    """The complaints an original's timeline says were marked its duplicates (undone ones too: the
    store keeps those still marked), read from its events so that no query scans for them."""
    named = {e["data"].get("duplicate") for e in timeline if e["event_type"] == "duplicate_linked"}
    return [uuid.UUID(i) for i in named if isinstance(i, str) and _is_uuid(i)]


def check_duplicate(services: Services, tenant_id: str, id_or_reference: str, named: str | None) -> ComplaintLink:
    """The complaint that `named` (`#1002`, `1002` or an id) names, if `id_or_reference` may be marked
    its duplicate: the summary shown before confirming, or the error a PATCH would get."""
    with services.db.transaction() as conn:
        current = _find(conn, tenant_id, id_or_reference)
        original = store.find(conn, tenant_id, named) if named else None
        found = changes.check_original(current, named, original)
        return next(iter(store.links(conn, tenant_id, [found["id"]])))


def undo_duplicate(
    services: Services, who: OfficeUser, id_or_reference: str, body: UndoDuplicate, *, if_match: int | None
) -> ComplaintDetail:
    """An office admin's undoing of a wrong duplicate (`changes.plan_undo_duplicate`), with why."""
    who.require_role("mla_admin")
    expected = changes.expected_version(ComplaintPatch(version=body.version), if_match)
    with services.db.transaction() as conn:
        found = _find(conn, who.tenant_id, id_or_reference)
        # Its original's row too, locked in the one order a PATCH locks two complaints in; a change
        # made in between shows as a new version.
        rows = [str(found["id"]), *([str(found["duplicate_of"])] if found["duplicate_of"] else [])]
        current = store.lock_in_order(conn, who.tenant_id, rows)[rows[0]]
        changes.check_version(current, expected)
        back_to = changes.status_before_duplicate(store.timeline(conn, who.tenant_id, current["id"]))
        change = changes.plan_undo_duplicate(current, note=body.note, back_to=back_to)
        store.apply_change(conn, who.tenant_id, current["id"], change, actor_id=who.user_id)
    return _changed(services, who.tenant_id, str(current["id"]))


def update_complaint(
    services: Services, who: OfficeUser, id_or_reference: str, patch: ComplaintPatch, *, if_match: int | None
) -> ComplaintDetail:
    """Apply `patch` if the complaint is still at the version the client saw; every change is an
    event, and a new status is told to the constituent by SMS once it is committed."""
    tenant_id = who.tenant_id
    expected = changes.expected_version(patch, if_match)
    config = load_agent_config(services, tenant_id)
    with services.db.transaction() as conn:
        current, original = _lock(conn, tenant_id, id_or_reference, patch)
        changes.check_version(current, expected)
        assignee = patch.assigned_to if not patch.unassign else None
        change = changes.plan_change(
            current,
            patch,
            now=datetime.now(UTC),
            categories={c.code for c in config.categories} if config else set(),
            original=original,
            assignee_active=assignee is not None and store.is_active_member(conn, tenant_id, assignee),
        )
        store.apply_change(conn, tenant_id, current["id"], change, actor_id=who.user_id)
    if config is not None and change.notify:
        sms.notify_status(services, config, cast("ComplaintRow", {**current, **change.columns}), change.notify)
    return _changed(services, tenant_id, str(current["id"]))


def add_note(services: Services, who: OfficeUser, id_or_reference: str, text: str) -> ComplaintDetail:
    with services.db.transaction() as conn:
        complaint = _find(conn, who.tenant_id, id_or_reference)
        store.add_events(conn, who.tenant_id, [Event(complaint["id"], "note", note=text)], actor_id=who.user_id)
    return _changed(services, who.tenant_id, str(complaint["id"]))


def _changed(services: Services, tenant_id: str, complaint_id: str) -> ComplaintDetail:
    """The complaint as it is now, its change told to the office's open pages."""
    detail = get_complaint(services, tenant_id, complaint_id)
    events.office_changed(services, tenant_id, "complaint.updated", reference=detail["reference"])
    return detail


def create_manual(
    services: Services, who: OfficeUser, body: ManualComplaint, *, idempotency_key: str | None
) -> ComplaintDetail:
    """A complaint typed in by staff, through the agent's intake (same rules, same SMS)."""
    config = load_agent_config(services, who.tenant_id)
    if config is None:
        raise NotFoundError("this office has no agent configuration")
    draft = intake.ComplaintDraft(
        **body.model_dump(include={"category", "description", "location", "caller_name", "landmark"})
    )
    logged = intake.log_complaint(
        services,
        config,
        draft,
        idempotency_key=intake.staff_key(who.user_id, idempotency_key),
        caller_number=body.caller_number,
        language=body.language,
        room_name=None,
        channel=body.channel,
        logged_by=who.user_id,
    )
    return get_complaint(services, who.tenant_id, str(logged.reference))
