"""LiveKit webhook events folded into call records (and meetings): each applied once, in any order.

LiveKit posts an event for each change in a room. An event arrives at least once (a retry carries the
same `id`) and not necessarily in order. Each event of a call room `mla-{tenant}-…` updates the
tenant's `calls` row for that room, the row the agent writes its transcript to (`calls.record_call`).
A meeting's room `mla-{tenant}-meet-{meeting id}` is no call: its events go to the meeting instead
(`meetings.room_events`, with its own merge rules; a room with that prefix that names no meeting of the
tenant is ignored), never to a call row. This module is the one edge both share: it checks and reads
the event, and owns the dedupe record.
The merge rules are commutative and idempotent, so the row ends up the same whatever the order:

- `started_at` and `answered_at` keep the earliest time seen, `ended_at` the latest. Every time comes
  from the event's `created_at`, never from when we received it.
- `duration_seconds` is `ended_at - started_at` of the merged row.
- The caller and dialed numbers keep the first value known (the agent reads the same SIP attributes).
  The recording location keeps the smallest when there are several, so replays converge.
- `end_reason` keeps the highest reason: a SIP participant's reason (why the caller left:
  `client_initiated`, `room_deleted`, …) ranks above the room's (`room_end_…`). Within one kind the
  larger name wins.
- `status` goes from `in_progress` to `completed` when the call ends. A status the agent set is kept.
- The transcript, outcome, language and latency belong to the agent and are never written here.

Dedupe: `platform.webhook_events` records each applied event id. The record is inserted first and
the effect only when it was, in one statement (so one transaction): a retry is a no-op, and an
effect that did not commit leaves no record. A meeting's event claims the same record (`_claim`) in
the transaction that changes the meeting.

Retention: records older than `RETENTION` (7 days) are deleted by `purge_webhook_events`, which the
daily retention job runs (`mla_core.privacy.retention`) and `ingest` runs now and then as well (about
one applied event in 1,000 triggers a purge of up to 5,000 rows, oldest first), so a busy day does not
wait for the job. LiveKit retries for minutes only; the week is a margin for looking into what arrived.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError
from typing_extensions import TypedDict

from mla_core.adapters.livekit_webhooks import MalformedEventError
from mla_core.core.errors import AppError, InvalidInputError
from mla_core.core.fields import sip_number
from mla_core.core.names import meeting_of_room, meeting_room_name, schema_name, stored_room_name
from mla_core.core.retention import WEBHOOK_EVENT_DAYS
from mla_core.core.text import clean
from mla_core.live import events

if TYPE_CHECKING:
    from psycopg import sql

    from mla_core.adapters import Services
    from mla_core.db import Conn, Database
    from mla_core.meetings.room_events import ClaimResult, RoomEvent

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=WEBHOOK_EVENT_DAYS)
PURGE_BATCH = 5_000
# Each purge removes up to PURGE_BATCH rows and runs about once per 1/PURGE_CHANCE applied events,
# which is 5 times the rate rows come in: the table stays near RETENTION's worth of events.
PURGE_CHANCE = 1 / 1_000

# Participant disconnect reasons never start with this, so a room's reason can be told apart.
ROOM_REASON_PREFIX = "room_end_"

Outcome = Literal["applied", "duplicate", "ignored"]


_OPTIONAL_TEXT = (
    "participant_identity", "participant_name", "participant_role", "disconnect_reason", "room_end_reason",
    "recording_url", "egress_status", "egress_error",
)  # fmt: skip


class CallEvent(BaseModel):
    """What we use of one LiveKit webhook event, validated from the fields the adapter read
    (`mla_core.adapters.livekit_webhooks.receive`)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=200)
    event: str = Field(min_length=1, max_length=100)
    room_name: str = Field(default="", max_length=500)
    created_at: datetime | None = None  # from LiveKit's int64 unix seconds; 0 means unset
    sip_participant: bool = False
    agent_participant: bool = False
    participant_identity: str | None = Field(default=None, max_length=500)
    participant_name: str | None = Field(default=None, max_length=500)
    participant_role: str | None = Field(default=None, max_length=64)
    caller_number: str | None = Field(default=None, max_length=64)
    dialed_number: str | None = Field(default=None, max_length=64)
    disconnect_reason: str | None = Field(default=None, max_length=64)
    room_end_reason: str | None = Field(default=None, max_length=64)
    recording_url: str | None = Field(default=None, max_length=2048)
    egress_status: str | None = Field(default=None, max_length=64)
    egress_error: str | None = Field(default=None, max_length=500)
    num_dropped: int = 0

    @field_validator("created_at", mode="before")
    @classmethod
    def _from_unix_seconds(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if value <= 0:
                return None
            try:
                return datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError) as exc:
                raise ValueError("created_at is not a unix time in seconds") from exc
        return value

    @field_validator(*_OPTIONAL_TEXT, mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return value or None

    @field_validator("caller_number", "dialed_number", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        """In ASCII digits, as the agent records it; None for a hidden caller or what is no number."""
        return sip_number(value) if isinstance(value, str) else value

    @field_validator("id", "event", "room_name", *_OPTIONAL_TEXT)
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Text as every edge takes it (`core.text`); the event is signed, so this runs after the
        signature held, on what LiveKit sent."""
        if value is None:
            return None
        try:
            text = clean(value, info.field_name or "event")
        except InvalidInputError as exc:
            raise ValueError(exc.details[0]["reason"]) from exc
        # The room as the agent stores the same call's (`core.names.stored_room_name`): no caller's number.
        return stored_room_name(text) if info.field_name == "room_name" else text


def parse_event(fields: Mapping[str, Any]) -> CallEvent:
    """`CallEvent` from the edge's fields; anything unusable is a `MalformedEventError` (400)."""
    try:
        return CallEvent.model_validate(fields)
    except PydanticValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "reason": err["msg"].removeprefix("Value error, ")}
            for err in exc.errors()
        ]
        raise MalformedEventError("the event is not a usable LiveKit webhook event", details=details) from exc


class Ingested(BaseModel):
    """What became of one event."""

    outcome: Outcome
    reason: str | None = None  # why it was ignored
    tenant_id: str | None = None
    changed_meeting: str | None = None  # the meeting whose state the event changed (the pages are told)
    ended_meeting: bool = False  # and the event ended it (its summary is queued)


class Receipt(TypedDict):
    """The webhook's answer to LiveKit: what became of the event it sent."""

    event_id: str
    outcome: Outcome
    reason: str | None


def receipt(event: CallEvent, ingested: Ingested) -> Receipt:
    return {"event_id": event.id, "outcome": ingested.outcome, "reason": ingested.reason}


@dataclass(frozen=True)
class RoomOwner:
    tenant_id: str
    is_call: bool  # `mla-{id}-…` is a call (or a meeting: `is_meeting`); `mla-{id}` is the tenant's own room

    def is_meeting(self, room_name: str) -> bool:
        """`mla-{id}-meet-…`: a meeting's room, whether or not what follows names a meeting."""
        return self.is_call and room_name.startswith(meeting_room_name(self.tenant_id, ""))


_ROOM = re.compile(r"mla-(?P<tenant_id>[a-z0-9]{10})(?P<call>-.+)?", re.DOTALL)


def room_owner(room_name: str) -> RoomOwner | None:
    """The tenant a room belongs to, by name (`core.names.room_name`, `core.names.call_room_prefix`)."""
    match = _ROOM.fullmatch(room_name)
    if match is None:
        return None
    return RoomOwner(tenant_id=match["tenant_id"], is_call=match["call"] is not None)


@dataclass(frozen=True)
class CallChange:
    """What one event says about its call; each field merges as the module docstring says."""

    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ends_call: bool = False
    caller_number: str | None = None
    dialed_number: str | None = None
    end_reason: str | None = None
    recording_url: str | None = None


def call_change(event: CallEvent) -> CallChange | None:
    """The change `event` makes to its call row, or None for an event that says nothing about it."""
    at = event.created_at
    if event.event == "room_started":
        return CallChange(started_at=at)
    if event.event == "participant_joined" and event.sip_participant:
        return CallChange(answered_at=at, caller_number=event.caller_number, dialed_number=event.dialed_number)
    if event.event == "participant_left" and event.sip_participant:
        reason = event.disconnect_reason
        if reason and reason.startswith(ROOM_REASON_PREFIX):  # keep the two kinds apart for the ranking
            reason = "participant_" + reason
        return CallChange(ended_at=at, ends_call=True, end_reason=reason)
    if event.event == "room_finished":
        reason = event.room_end_reason
        if reason and not reason.startswith(ROOM_REASON_PREFIX):
            reason = ROOM_REASON_PREFIX + reason
        return CallChange(ended_at=at, ends_call=True, end_reason=reason)
    if event.event == "egress_ended" and event.recording_url:
        return CallChange(recording_url=event.recording_url)
    return None


def ingest(db: Database, event: CallEvent, *, purge_chance: float = PURGE_CHANCE) -> Ingested:
    """Apply `event` to its call row once. Rooms, tenants and events that are not ours are ignored.

    Raises `TransientError` when the database is unavailable; nothing is then recorded, so LiveKit's
    retry of the same event is applied later.
    """
    owner = room_owner(event.room_name)
    if event.num_dropped:
        logger.warning("livekit dropped webhook events", extra={"num_dropped": event.num_dropped})
    if owner is None:
        return _ignored(event, "not_our_room")
    if not owner.is_call:
        return _ignored(event, "tenant_room", owner.tenant_id)
    if owner.is_meeting(event.room_name):
        return _ingest_meeting(db, event, owner.tenant_id, purge_chance)
    change = call_change(event)
    if change is None:
        return _ignored(event, "no_call_change", owner.tenant_id)
    # Postgres modules load with the first event that needs them, not at cold start.
    from psycopg import errors as pg_errors

    try:
        with db.transaction() as conn:
            row = conn.execute(_apply_sql(schema_name(owner.tenant_id)), _params(event, owner, change)).fetchone()
    except (pg_errors.UndefinedTable, pg_errors.InvalidSchemaName):
        # No call table: a tenant that is not registered, or whose schema is missing or archived.
        # Nothing ran (the statement failed as a whole), so nothing is recorded either.
        return _ignored(event, _why_no_table(db, owner.tenant_id, "no_call_table"), owner.tenant_id)
    assert row is not None
    if not row["known"]:
        return _ignored(event, "unknown_tenant", owner.tenant_id)
    if not row["claimed"]:
        return _duplicate(event, owner.tenant_id)
    return _applied(db, event, owner.tenant_id, purge_chance)


def _ingest_meeting(db: Database, event: CallEvent, tenant_id: str, purge_chance: float) -> Ingested:
    """A meeting room's event, applied to the meeting once (`meetings.room_events`), never to a call."""
    # The meetings' store and Postgres load with the first meeting event, not at cold start. This is the
    # one import from calls into meetings (pyproject's import-linter ignore_imports names it).
    from psycopg import errors as pg_errors

    from mla_core.meetings import room_events

    meeting_id = _meeting_id(event.room_name)
    if meeting_id is None:
        return _ignored(event, "unknown_meeting", tenant_id)
    room_event = _room_event(event)
    if not room_events.folds(room_event):
        return _ignored(event, "no_meeting_change", tenant_id)
    try:
        folded = room_events.ingest(
            db, tenant_id, meeting_id, event.room_name, room_event, lambda conn: _claim(conn, event, tenant_id)
        )
    except (pg_errors.UndefinedTable, pg_errors.InvalidSchemaName):
        return _ignored(event, _why_no_table(db, tenant_id, "no_meeting_table"), tenant_id)
    if folded.outcome == "ignored":
        return _ignored(event, folded.reason or "ignored", tenant_id)
    if folded.outcome == "duplicate":
        return _duplicate(event, tenant_id)
    if event.egress_error:
        logger.warning(
            "meeting recording failed",
            extra={**_log_fields(event, tenant_id), "egress_status": event.egress_status, "error": event.egress_error},
        )
    applied = _applied(db, event, tenant_id, purge_chance)
    return applied.model_copy(
        update={"changed_meeting": str(meeting_id) if folded.changed else None, "ended_meeting": folded.ended}
    )


def _meeting_id(room_name: str) -> uuid.UUID | None:
    found = meeting_of_room(room_name)
    if found is None:
        return None
    try:
        return uuid.UUID(found[1])
    except ValueError:  # the name's shape, but no UUID (dashes in the wrong places)
        return None


def _room_event(event: CallEvent) -> RoomEvent:
    from mla_core.meetings.room_events import RoomEvent

    return RoomEvent(
        kind=event.event,
        at=event.created_at,
        identity=event.participant_identity,
        name=event.participant_name,
        role=event.participant_role,
        agent=event.agent_participant,
        recording_url=event.recording_url,
        egress_status=event.egress_status,
        egress_error=event.egress_error,
    )


def _claim(conn: Conn, event: CallEvent, tenant_id: str) -> ClaimResult:
    """The event's dedupe record, on `conn` (in the caller's transaction): claimed now, already there,
    or not written because the tenant is not registered."""
    row = conn.execute(_CLAIM_SQL, _claim_params(event, tenant_id)).fetchone()
    assert row is not None
    return "unknown_tenant" if not row["known"] else "claimed" if row["claimed"] else "duplicate"


def _duplicate(event: CallEvent, tenant_id: str) -> Ingested:
    logger.info("webhook event duplicate", extra=_log_fields(event, tenant_id))
    return Ingested(outcome="duplicate", tenant_id=tenant_id)


def _applied(db: Database, event: CallEvent, tenant_id: str, purge_chance: float) -> Ingested:
    logger.info("webhook event applied", extra=_log_fields(event, tenant_id))
    if random.random() < purge_chance:
        _purge_quietly(db)
    return Ingested(outcome="applied", tenant_id=tenant_id)


async def apply(services: Services, event: CallEvent) -> Ingested:
    """`ingest` (on the event loop: about a millisecond), and a call answered or ended, or a meeting
    changed, told to the office's open pages, their "calls now" and meetings (in a thread: it waits on
    Redis and API Gateway)."""
    ingested = ingest(services.db, event)
    if ingested.changed_meeting and ingested.tenant_id:
        await asyncio.to_thread(
            events.office_changed, services, ingested.tenant_id, "meeting.updated", meeting_id=ingested.changed_meeting
        )
        if ingested.ended_meeting:
            from mla_core.meetings import room_events

            meeting_id = uuid.UUID(ingested.changed_meeting)
            await asyncio.to_thread(room_events.summarise_ended, services, ingested.tenant_id, meeting_id)
        return ingested
    change = call_change(event)
    if ingested.outcome == "applied" and ingested.tenant_id and change is not None:
        kind: events.EventType | None = (
            "call.started" if change.answered_at is not None else "call.ended" if change.ends_call else None
        )
        if kind is not None:
            await asyncio.to_thread(events.office_changed, services, ingested.tenant_id, kind, call_id=event.room_name)
    return ingested


def _why_no_table(db: Database, tenant_id: str, no_table: str) -> str:
    """`no_table` for a registered tenant without the table (its schema missing or archived), else
    `unknown_tenant`."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT 1 FROM platform.tenants WHERE tenant_id = %s AND status <> 'deleted'", (tenant_id,)
        ).fetchone()
    return no_table if row else "unknown_tenant"


def purge_webhook_events(
    db: Database,
    *,
    older_than: timedelta = RETENTION,
    batch: int = PURGE_BATCH,
    now: datetime | None = None,
    dry_run: bool = False,
) -> int:
    """Delete up to `batch` dedupe records received more than `older_than` before `now` (the database's
    clock by default), oldest first; `dry_run` only counts them.

    Returns how many went. Safe to run from several processes at once (rows another purge holds are
    skipped).
    """
    params = (now, older_than, batch)
    with db.transaction() as conn:
        if dry_run:
            row = conn.execute(
                "SELECT count(*) AS n FROM (SELECT FROM platform.webhook_events"
                " WHERE received_at < COALESCE(%s::timestamptz, now()) - %s LIMIT %s) e",
                params,
            ).fetchone()
            return int(row["n"]) if row else 0
        deleted = conn.execute(
            "DELETE FROM platform.webhook_events WHERE id IN (SELECT id FROM platform.webhook_events"
            " WHERE received_at < COALESCE(%s::timestamptz, now()) - %s ORDER BY received_at LIMIT %s"
            " FOR UPDATE SKIP LOCKED)",
            params,
        )
        return deleted.rowcount


def _purge_quietly(db: Database) -> None:
    """Retention is housekeeping: it never fails the event that triggered it."""
    from psycopg import Error as PostgresError

    try:
        purged = purge_webhook_events(db)
    except (AppError, PostgresError):
        logger.warning("webhook event purge failed", exc_info=True)
        return
    logger.info("webhook events purged", extra={"purged": purged, "retention_days": RETENTION.days})


def _ignored(event: CallEvent, reason: str, tenant_id: str | None = None) -> Ingested:
    logger.info("webhook event ignored", extra={**_log_fields(event, tenant_id), "reason": reason})
    return Ingested(outcome="ignored", reason=reason, tenant_id=tenant_id)


def _log_fields(event: CallEvent, tenant_id: str | None) -> dict[str, Any]:
    return {"event": event.event, "event_id": event.id, "room": event.room_name, "tenant_id": tenant_id}


@lru_cache(maxsize=1024)
def _apply_sql(schema: str) -> sql.Composed:
    """One statement, so one implicit all-or-nothing unit even outside a transaction.

    `tenant`: the tenant is registered and not deleted. `claimed`: the event's dedupe record, written
    only then and only once per id (a concurrent retry waits on the first's row, then does nothing).
    `applied`: the call-row merge, only when claimed. In DO UPDATE, `c` is the row before this event
    and EXCLUDED what this event alone says.
    """
    from psycopg import sql

    applied = sql.SQL(
        ", applied AS ("
        "  INSERT INTO {calls} AS c (room_name, caller_number, dialed_number, status, started_at, answered_at,"
        "   ended_at, end_reason, recording_url, last_event_at)"
        "  SELECT %(room)s, %(caller)s, %(dialed)s, %(status)s, %(started)s, %(answered)s, %(ended)s,"
        "   %(end_reason)s, %(recording)s, %(at)s FROM claimed"
        "  ON CONFLICT (room_name) DO UPDATE SET"
        "   caller_number = COALESCE(c.caller_number, EXCLUDED.caller_number),"
        "   dialed_number = COALESCE(c.dialed_number, EXCLUDED.dialed_number),"
        "   status = CASE WHEN EXCLUDED.status = 'completed' AND c.status = 'in_progress' THEN 'completed'"
        "    ELSE c.status END,"
        "   started_at = LEAST(c.started_at, EXCLUDED.started_at),"
        "   answered_at = LEAST(c.answered_at, EXCLUDED.answered_at),"
        "   ended_at = GREATEST(c.ended_at, EXCLUDED.ended_at),"
        "   duration_seconds = COALESCE(GREATEST(0, floor(extract(epoch FROM"
        "    GREATEST(c.ended_at, EXCLUDED.ended_at) - LEAST(c.started_at, EXCLUDED.started_at))))::integer,"
        "    c.duration_seconds),"
        "   end_reason = CASE WHEN c.end_reason IS NULL"
        "    OR (NOT starts_with(EXCLUDED.end_reason, {room_prefix}), EXCLUDED.end_reason)"
        "     > (NOT starts_with(c.end_reason, {room_prefix}), c.end_reason)"
        "    THEN EXCLUDED.end_reason ELSE c.end_reason END,"
        "   recording_url = LEAST(c.recording_url, EXCLUDED.recording_url),"
        "   last_event_at = GREATEST(c.last_event_at, EXCLUDED.last_event_at),"
        "   updated_at = now()"
        ")"
    ).format(calls=sql.Identifier(schema, "calls"), room_prefix=sql.Literal(ROOM_REASON_PREFIX))
    return sql.SQL(_CLAIMED) + applied + sql.SQL(_KNOWN_AND_CLAIMED)


# `tenant`: the tenant is registered and not deleted. `claimed`: the event's dedupe record, written only
# then and only once per id (a concurrent retry waits on the first's row, then does nothing).
_CLAIMED = (
    "WITH tenant AS ("
    "  SELECT FROM platform.tenants WHERE tenant_id = %(tenant_id)s AND status <> 'deleted'"
    "), claimed AS ("
    "  INSERT INTO platform.webhook_events (id, event, room_name, tenant_id, created_at)"
    "  SELECT %(id)s, %(event)s, %(room)s, %(tenant_id)s, %(at)s FROM tenant"
    "  ON CONFLICT (id) DO NOTHING RETURNING id"
    ")"
)
_KNOWN_AND_CLAIMED = " SELECT EXISTS (SELECT FROM tenant) AS known, EXISTS (SELECT FROM claimed) AS claimed"
_CLAIM_SQL = _CLAIMED + _KNOWN_AND_CLAIMED  # a meeting's event: the record alone, its effect follows


def _claim_params(event: CallEvent, tenant_id: str) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": event.id,
        "event": event.event,
        "room": event.room_name,
        "at": event.created_at,
    }


def _params(event: CallEvent, owner: RoomOwner, change: CallChange) -> dict[str, Any]:
    return {
        **_claim_params(event, owner.tenant_id),
        "caller": change.caller_number,
        "dialed": change.dialed_number,
        "status": "completed" if change.ends_call else "in_progress",
        "started": change.started_at,
        "answered": change.answered_at,
        "ended": change.ended_at,
        "end_reason": change.end_reason,
        "recording": change.recording_url,
    }
