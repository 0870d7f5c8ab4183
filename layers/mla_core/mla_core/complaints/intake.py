"""Complaints taken by the voice agent or typed in by staff: validated, durable, confirmed by SMS.

Durability comes first: a complaint is stored in the tenant's schema, or, when Postgres cannot
take it, put on an SQS queue that the complaint-ingest function drains into the same table. The
reference comes from Redis, so the caller hears it either way, and each idempotency key keeps its
reference, so a retried tool call never makes a second complaint. While Redis is unavailable
Postgres gives the reference, from a range Redis never reaches (`store.REFERENCE_CEILING`), so no
reference taken during an outage can meet one Redis issued before it or issues after it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict

from mla_core.adapters import Services
from mla_core.agents.config import AgentConfig, Category
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import personal_data, sms, store
from mla_core.complaints.models import LIMITS, Channel, Complaint
from mla_core.complaints.store import REFERENCE_CEILING, highest_reference
from mla_core.core.errors import InvalidInputError, TransientError, VendorError
from mla_core.core.privacy import mask_phone
from mla_core.db import Conn
from mla_core.db.personal_data import erased_since
from mla_core.live import events

logger = logging.getLogger(__name__)


class ComplaintDraft(BaseModel):
    """What the caller told the agent, before it is a complaint (checked by `log_complaint`, so
    that a refusal is a sentence the caller can hear)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    category: str
    description: str
    location: str
    caller_name: str | None = None
    landmark: str | None = None


@dataclass(frozen=True)
class LoggedComplaint:
    reference: int
    queued: bool  # True: Postgres was down; the complaint waits in the queue and arrives later


class ComplaintView(BaseModel):
    """A caller's complaint, as the agent tells it to the number it was registered from."""

    reference: int
    category: str
    status: str
    created_at: datetime
    sla_due_at: datetime | None
    description: str


class ComplaintStatus(BaseModel):
    """All that a stated reference tells of a complaint no caller's number owns (a hidden caller's,
    or a walk-in's without a number): anyone may know its reference (an SMS to a callback number
    says it), so nothing the caller said is in it."""

    reference: int
    status: str
    created_at: datetime


_OPTIONAL = ("caller_name", "landmark")
_SAYABLE = {
    "description": "I need a short description of the problem",
    "location": "I need the place: the street, ward or village",
    "caller_name": "that name is too long",
    "landmark": "that landmark is too long",
}


def check_draft(config: AgentConfig, draft: ComplaintDraft) -> Category:
    """The draft's category, once the draft keeps the tenant's rules; a refusal's message is a sentence
    the caller can hear."""
    for field, (low, high) in LIMITS.items():
        value = getattr(draft, field)
        if value is None and field in _OPTIONAL:
            continue
        if value is None or not low <= len(value) <= high or not any(ch.isalnum() for ch in value):
            raise InvalidInputError(_SAYABLE[field], details=[{"field": field, "reason": f"{low}-{high} characters"}])
    wanted = draft.category.strip().casefold()
    for category in config.categories:
        if wanted == category.code or wanted in (name.casefold() for name in category.names.values()):
            return category
    codes = ", ".join(c.code for c in config.categories)
    raise InvalidInputError(
        f"the category must be one of: {codes}", details=[{"field": "category", "reason": "unknown category"}]
    )


def log_complaint(
    services: Services,
    config: AgentConfig,
    draft: ComplaintDraft,
    *,
    idempotency_key: str,
    caller_number: str | None,
    language: str,
    room_name: str | None,
    channel: Channel = "phone",
    callback_number: str | None = None,
    sms_confirmation: bool = True,
    logged_by: str | None = None,
) -> LoggedComplaint:
    """Validate, make durable, confirm by SMS; returns the reference to read out.

    `caller_number` is whose complaint it is (the number the call came from, or one staff typed);
    `callback_number` is where a hidden caller asked for the SMS, which never makes the complaint
    theirs. `sms_confirmation=False` stores it without an SMS (the call's SMS are used up);
    `logged_by`: the office user who typed it in (the timeline names them).

    Raises `InvalidInputError` (nothing stored) or `TransientError` (neither Postgres nor the queue
    took it: the caller must not be given a reference).
    """
    category = check_draft(config, draft)
    reference = _reference_for(services, config.tenant_id, idempotency_key)
    now = datetime.now(UTC)
    complaint = Complaint(
        tenant_id=config.tenant_id,
        reference=reference,
        idempotency_key=idempotency_key,
        channel=channel,
        category=category.code,
        description=draft.description,
        location=draft.location,
        landmark=draft.landmark,
        caller_name=draft.caller_name,
        caller_number=caller_number,
        callback_number=None if caller_number else callback_number,
        language=language,
        room_name=room_name,
        sla_due_at=now + timedelta(days=category.sla_days),
        created_at=now,
        sms_confirmation=sms_confirmation,
        logged_by=logged_by,
    )
    try:
        inserted, complaint = _store_once(services, complaint, may_renumber=True)
    except TransientError as exc:
        services.queue.send(QueuedComplaint(**complaint.model_dump()).model_dump_json(), key=idempotency_key)
        logger.warning(
            "complaint queued: database unavailable",
            extra={"tenant_id": config.tenant_id, "reference": reference, "error": str(exc)},
        )
        return LoggedComplaint(reference=reference, queued=True)
    if inserted:
        sms.confirm_complaint(services, config, complaint)
        events.office_changed(services, config.tenant_id, "complaint.created", reference=complaint.reference)
    logger.info(
        "complaint logged",
        extra={
            "tenant_id": config.tenant_id,
            "reference": complaint.reference,
            "new": inserted,
            "caller": mask_phone(caller_number),
            "callback": mask_phone(complaint.callback_number),
            "category": complaint.category,
        },
    )
    return LoggedComplaint(reference=complaint.reference, queued=False)


def staff_key(user_id: str, form_key: str | None) -> str:
    """The idempotency key of a complaint staff type in: one per blank form (its one-time key) and
    person, so Back then Save, a double click or a retried post stores one complaint and sends one SMS."""
    return f"manual:{user_id}:{form_key or uuid.uuid4()}"


def saved_under(services: Services, tenant_id: str, idempotency_key: str) -> int | None:
    """The reference of the complaint already stored under `idempotency_key`; None while there is none."""
    with services.db.transaction() as conn:
        return store.reference_under_key(conn, tenant_id, idempotency_key)


def _reference_for(services: Services, tenant_id: str, idempotency_key: str) -> int:
    """The reference pinned to the key in Redis; while Redis is unavailable, a new one from Postgres
    (a retry with the same key is then answered with the stored one by `_insert`)."""
    try:
        return _issued_by_redis(services.references.reference_for(tenant_id, idempotency_key))
    except TransientError:
        logger.warning("reference from postgres: redis unavailable", extra={"tenant_id": tenant_id})
    with services.db.transaction() as conn:
        return store.fallback_reference(conn, tenant_id)


def _issued_by_redis(reference: int) -> int:
    if reference >= REFERENCE_CEILING:
        raise VendorError(f"the Redis reference counter reached {REFERENCE_CEILING}, where Postgres's references begin")
    return reference


def _store_once(services: Services, complaint: Complaint, *, may_renumber: bool) -> tuple[bool, Complaint]:
    """Insert once per idempotency key; returns (inserted now, the stored complaint).

    A reference already used by another complaint means the Redis counter went back (a flush or
    restore): the counter is raised above the stored ones and, if the caller has not heard the
    number yet (`may_renumber`), the complaint gets a new one.
    """
    try:
        with services.db.transaction() as conn:
            return _insert(conn, complaint)
    except psycopg.errors.UniqueViolation:
        if not may_renumber:
            raise
    with services.db.transaction() as conn:
        highest = highest_reference(conn, complaint.tenant_id)
    services.references.raise_floor(complaint.tenant_id, highest)
    renumbered = complaint.model_copy(
        update={
            "reference": _issued_by_redis(services.references.repin(complaint.tenant_id, complaint.idempotency_key))
        }
    )
    with services.db.transaction() as conn:
        return _insert(conn, renumbered)


def _insert(conn: Conn, complaint: Complaint) -> tuple[bool, Complaint]:
    if store.insert(conn, complaint) is not None:
        return True, complaint
    # This key was stored before: answer with what was stored.
    stored = store.reference_for_key(conn, complaint.tenant_id, complaint.idempotency_key)
    return False, complaint.model_copy(update={"reference": stored})


class QueuedComplaint(Complaint):
    """A complaint as it waits in the queue, beside call records (`calls.records.CallRecord`);
    complaints queued before there were call records have no `kind`."""

    kind: Literal["complaint"] = "complaint"


def ingest_queued(services: Services, queued: Complaint) -> bool:
    """Store a complaint that waited in the queue (exactly once, keyed by its idempotency key) and
    send its SMS; returns whether it was new. The caller already heard its reference: it is kept."""
    complaint = Complaint.model_validate(queued.model_dump())  # as stored: without its `kind`
    if _erased_since_made(services, complaint):
        complaint = personal_data.anonymised(complaint)  # and no SMS: its number is gone
    inserted, stored = _store_once(services, complaint, may_renumber=False)
    if inserted:
        config = load_agent_config(services, complaint.tenant_id)
        if config is not None:
            sms.confirm_complaint(services, config, stored)
        events.office_changed(services, complaint.tenant_id, "complaint.created", reference=stored.reference)
    logger.info(
        "queued complaint ingested",
        extra={"tenant_id": complaint.tenant_id, "reference": complaint.reference, "new": inserted},
    )
    return inserted


def _erased_since_made(services: Services, complaint: Complaint) -> bool:
    """Whether the caller's data was erased while the complaint waited in the queue."""
    numbers = (complaint.caller_number, complaint.callback_number)
    return erased_since(
        services.db, lambda: services.settings.privacy_key, complaint.tenant_id, numbers, complaint.created_at
    )


def complaint_status(
    services: Services, tenant_id: str, reference: int, caller_number: str | None
) -> ComplaintView | ComplaintStatus | None:
    """Complaint `reference` as far as this caller may hear it: in full when it was registered from
    their number; its status alone when no caller's number owns it (a hidden caller's, whose
    callback number is never an owner); None alike for another caller's and an unknown reference."""
    with services.db.transaction() as conn:
        row = store.callers_complaint(conn, tenant_id, reference, caller_number) if caller_number else None
        if row is not None:
            return ComplaintView.model_validate(row)
        bare = store.unowned_complaint_status(conn, tenant_id, reference)
    return ComplaintStatus.model_validate(bare) if bare else None


def open_complaints(
    services: Services, tenant_id: str, caller_number: str | None, *, limit: int = 3
) -> list[ComplaintView]:
    """The caller's complaints that are not yet resolved, newest first (what a returning caller hears):
    registered from their number, never those that named it as a hidden caller's callback number."""
    if not caller_number:
        return []
    with services.db.transaction() as conn:
        rows = store.callers_open_complaints(conn, tenant_id, caller_number, limit=limit)
    return [ComplaintView.model_validate(row) for row in rows]
