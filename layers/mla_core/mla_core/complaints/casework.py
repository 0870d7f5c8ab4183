"""The MLA office's work on one complaint: read it, change it, note on it, or log one by hand.

Each action is one transaction over the store; the rules of a change are `changes.plan_change`.
Finding complaints is `search`, the CSV file `export`, the overview `stats`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from mla_core.adapters import Services
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import changes, intake, sms, store
from mla_core.complaints.models import ComplaintDetail, ComplaintPatch, ComplaintRow, Event, ManualComplaint
from mla_core.core.errors import NotFoundError
from mla_core.core.principal import OfficeUser
from mla_core.db import Conn


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
    """The complaint with its timeline, its call and its notifications."""
    with services.db.transaction() as conn:
        complaint = _find(conn, tenant_id, id_or_reference)
        complaint_id = complaint["id"]
        return {
            **complaint,
            "timeline": store.timeline(conn, tenant_id, complaint_id),
            "call": store.call(conn, tenant_id, complaint_id),
            "notifications": store.notifications(conn, tenant_id, complaint_id),
        }


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
    return get_complaint(services, tenant_id, str(current["id"]))


def add_note(services: Services, who: OfficeUser, id_or_reference: str, text: str) -> ComplaintDetail:
    with services.db.transaction() as conn:
        complaint = _find(conn, who.tenant_id, id_or_reference)
        store.add_events(conn, who.tenant_id, [Event(complaint["id"], "note", note=text)], actor_id=who.user_id)
    return get_complaint(services, who.tenant_id, str(complaint["id"]))


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
    )
    return get_complaint(services, who.tenant_id, str(logged.reference))
