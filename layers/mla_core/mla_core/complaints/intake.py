"""Complaints taken by the voice agent (and later by staff): validated, durable, confirmed by SMS.

Durability comes first: a complaint is stored in the tenant's schema, or, when Postgres cannot
take it, put on an SQS queue that the complaint-ingest function drains into the same table. The
reference comes from Redis, so the caller hears it either way, and each idempotency key keeps its
reference, so a retried tool call never makes a second complaint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from mla_core.adapters import Services
from mla_core.agents.config import AgentConfig, Category
from mla_core.complaints import sms
from mla_core.core.errors import InvalidInputError, TransientError
from mla_core.core.names import schema_name
from mla_core.core.privacy import mask_phone
from mla_core.db import Conn

logger = logging.getLogger(__name__)


class ComplaintDraft(BaseModel):
    """What the caller told the agent, before it is a complaint."""

    model_config = ConfigDict(str_strip_whitespace=True)

    category: str
    description: str
    location: str
    caller_name: str | None = None
    landmark: str | None = None


class Complaint(BaseModel):
    """An accepted complaint, as stored and as queued (versioned: it travels through SQS)."""

    schema_version: Literal[1] = 1
    tenant_id: str
    reference: int
    idempotency_key: str
    channel: Literal["phone", "walk_in", "web", "manual"] = "phone"
    category: str
    description: str
    location: str
    landmark: str | None = None
    caller_name: str | None = None
    caller_number: str | None = None
    language: str
    room_name: str | None = None
    sla_due_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class LoggedComplaint:
    reference: int
    queued: bool  # True: Postgres was down; the complaint waits in the queue and arrives later


class ComplaintView(BaseModel):
    reference: int
    category: str
    status: str
    created_at: datetime
    sla_due_at: datetime | None
    description: str


_LIMITS = {"description": (5, 1000), "location": (2, 300), "caller_name": (1, 120), "landmark": (1, 200)}
_SAYABLE = {
    "description": "I need a short description of the problem",
    "location": "I need the place: the street, ward or village",
    "caller_name": "that name is too long",
    "landmark": "that landmark is too long",
}


def _validate(config: AgentConfig, draft: ComplaintDraft) -> Category:
    """Check the draft against the tenant's rules; the error message is a sentence the caller can hear."""
    for field, (low, high) in _LIMITS.items():
        value = getattr(draft, field)
        if value is None and field in ("caller_name", "landmark"):
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
    channel: Literal["phone", "walk_in", "web", "manual"] = "phone",
) -> LoggedComplaint:
    """Validate, make durable, confirm by SMS; returns the reference to read out.

    Raises `InvalidInputError` (nothing stored) or `TransientError` (neither Postgres nor the queue
    took it: the caller must not be given a reference).
    """
    category = _validate(config, draft)
    reference = services.references.reference_for(config.tenant_id, idempotency_key)
    now = datetime.now(UTC)
    complaint = Complaint(
        tenant_id=config.tenant_id, reference=reference, idempotency_key=idempotency_key, channel=channel,
        category=category.code, description=draft.description, location=draft.location, landmark=draft.landmark,
        caller_name=draft.caller_name, caller_number=caller_number, language=language, room_name=room_name,
        sla_due_at=now + timedelta(days=category.sla_days), created_at=now,
    )  # fmt: skip
    try:
        inserted, complaint = store(services, complaint, may_renumber=True)
    except TransientError as exc:
        services.queue.send(complaint.model_dump_json(), key=idempotency_key)
        logger.warning(
            "complaint queued: database unavailable",
            extra={"tenant_id": config.tenant_id, "reference": reference, "error": str(exc)},
        )
        return LoggedComplaint(reference=reference, queued=True)
    if inserted:
        sms.confirm_complaint(services, config, complaint)
    logger.info(
        "complaint logged",
        extra={"tenant_id": config.tenant_id, "reference": complaint.reference, "new": inserted,
               "caller": mask_phone(caller_number), "category": complaint.category},
    )  # fmt: skip
    return LoggedComplaint(reference=complaint.reference, queued=False)


def store(services: Services, complaint: Complaint, *, may_renumber: bool) -> tuple[bool, Complaint]:
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
        update={"reference": services.references.repin(complaint.tenant_id, complaint.idempotency_key)}
    )
    with services.db.transaction() as conn:
        return _insert(conn, renumbered)


def _table(tenant_id: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema_name(tenant_id)), sql.Identifier(table))


def _insert(conn: Conn, complaint: Complaint) -> tuple[bool, Complaint]:
    values = complaint.model_dump(exclude={"schema_version", "tenant_id"})
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {complaints} (reference, idempotency_key, channel, category, description, location,"
            " landmark, caller_name, caller_number, language, room_name, sla_due_at, created_at, updated_at, call_id)"
            " VALUES (%(reference)s, %(idempotency_key)s, %(channel)s, %(category)s, %(description)s, %(location)s,"
            " %(landmark)s, %(caller_name)s, %(caller_number)s, %(language)s, %(room_name)s, %(sla_due_at)s,"
            " %(created_at)s, %(created_at)s, (SELECT id FROM {calls} WHERE room_name = %(room_name)s))"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
        ).format(complaints=_table(complaint.tenant_id, "complaints"), calls=_table(complaint.tenant_id, "calls")),
        values,
    ).fetchone()
    if row is None:  # this key was stored before: answer with what was stored
        existing = conn.execute(
            sql.SQL("SELECT reference FROM {} WHERE idempotency_key = %s").format(
                _table(complaint.tenant_id, "complaints")
            ),
            (complaint.idempotency_key,),
        ).fetchone()
        assert existing is not None
        return False, complaint.model_copy(update={"reference": existing["reference"]})
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (complaint_id, event_type, to_status, actor_type, actor_id, data)"
            " VALUES (%s, 'created', 'new', %s, %s, %s)"
        ).format(_table(complaint.tenant_id, "complaint_events")),
        (row["id"], "agent" if complaint.channel == "phone" else "user", complaint.room_name,
         Jsonb({"channel": complaint.channel, "language": complaint.language})),
    )  # fmt: skip
    return True, complaint


def highest_reference(conn: Conn, tenant_id: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT COALESCE(max(reference), 0) AS highest FROM {}").format(_table(tenant_id, "complaints"))
    ).fetchone()
    assert row is not None
    return int(row["highest"])


def ingest_queued(services: Services, body: str) -> bool:
    """Store a complaint that waited in the queue (exactly once, keyed by its idempotency key) and
    send its SMS; returns whether it was new. The caller already heard its reference: it is kept."""
    from mla_core.agents.routing import load_agent_config

    complaint = Complaint.model_validate_json(body)
    inserted, stored = store(services, complaint, may_renumber=False)
    if inserted:
        config = load_agent_config(services, complaint.tenant_id)
        if config is not None:
            sms.confirm_complaint(services, config, stored)
    logger.info(
        "queued complaint ingested",
        extra={"tenant_id": complaint.tenant_id, "reference": complaint.reference, "new": inserted},
    )
    return inserted


def _view(row: dict[str, object]) -> ComplaintView:
    return ComplaintView.model_validate(row)


def complaint_status(
    services: Services, tenant_id: str, reference: int, caller_number: str | None
) -> ComplaintView | None:
    """One of this caller's complaints; another caller's (or an unknown) reference is None alike."""
    if not caller_number:
        return None
    with services.db.transaction() as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT reference, category, status, created_at, sla_due_at, description FROM {}"
                " WHERE reference = %s AND caller_number = %s"
            ).format(_table(tenant_id, "complaints")),
            (reference, caller_number),
        ).fetchone()
    return _view(row) if row else None


def open_complaints(
    services: Services, tenant_id: str, caller_number: str | None, *, limit: int = 3
) -> list[ComplaintView]:
    """The caller's complaints that are not yet resolved, newest first (what a returning caller hears)."""
    if not caller_number:
        return []
    with services.db.transaction() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT reference, category, status, created_at, sla_due_at, description FROM {}"
                " WHERE caller_number = %s AND status NOT IN ('resolved', 'closed', 'duplicate')"
                " ORDER BY created_at DESC LIMIT %s"
            ).format(_table(tenant_id, "complaints")),
            (caller_number, limit),
        ).fetchall()
    return [_view(row) for row in rows]
