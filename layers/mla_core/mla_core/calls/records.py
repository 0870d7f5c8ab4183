"""Call records: one row per LiveKit room, written by the agent after the call, checkpointed by it
during the call (and by the LiveKit webhooks, which converge on the same row).

Durability as for complaints (`complaints.intake`): when Postgres cannot take a record, it waits on
the same SQS queue, as a `CallRecord` message, until the complaint-ingest function stores it. The
row is keyed by the room, and storing a record again writes the same row: a message delivered twice
leaves one record. A call refused because the store was down leaves one too.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from mla_core.adapters import Services
from mla_core.agents.routing import tenant_id_for_number
from mla_core.core.errors import TransientError
from mla_core.core.names import schema_name, stored_room_name
from mla_core.core.privacy import mask_phone
from mla_core.db.personal_data import erased_since

logger = logging.getLogger(__name__)

# SQS takes a message of up to 256 KiB; a longer transcript is cut in the middle to fit.
QUEUE_MESSAGE_LIMIT = 250_000


class CallRecord(BaseModel):
    """What the agent knows of a call when it ends, as stored and as queued (versioned: it travels
    through SQS beside queued complaints, told apart by `kind`)."""

    kind: Literal["call_record"] = "call_record"
    schema_version: Literal[1] = 1
    tenant_id: str | None  # None: refused before its tenant was known; found by the dialed number later
    room_name: str
    caller_number: str | None = None
    dialed_number: str | None = None
    language: str | None = None
    status: Literal["completed", "missed", "failed"] = "completed"
    outcome: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    transcript: list[dict[str, Any]] = Field(default_factory=list)
    latency: dict[str, Any] = Field(default_factory=dict)
    notice_played_at: datetime | None = None  # DPDP: when the recording notice was played


def record_call(
    services: Services,
    tenant_id: str,
    room_name: str,
    *,
    caller_number: str | None,
    dialed_number: str | None,
    language: str | None,
    started_at: datetime | None,
    ended_at: datetime | None,
    outcome: str | None,
    transcript: list[dict[str, Any]],
    latency: dict[str, Any],
    notice_played_at: datetime | None,
    status: Literal["completed", "missed"] = "completed",
) -> None:
    """Upsert the call's row (Postgres only; `keep_call_record` falls back on the queue)."""
    store_call_record(
        services,
        tenant_id,
        CallRecord(
            tenant_id=tenant_id,
            room_name=room_name,
            caller_number=caller_number,
            dialed_number=dialed_number,
            language=language,
            status=status,
            outcome=outcome,
            started_at=started_at,
            ended_at=ended_at,
            transcript=transcript,
            latency=latency,
            notice_played_at=notice_played_at,
        ),
    )


def keep_call_record(services: Services, record: CallRecord) -> bool:
    """Store the record, or queue it when Postgres cannot take it; returns whether it was queued.

    Raises `TransientError` when neither Postgres nor the queue took it (the record is lost: logged).
    """
    if record.tenant_id is not None:
        try:
            store_call_record(services, record.tenant_id, record)
            return False
        except TransientError as exc:
            logger.warning(
                "call record queued: database unavailable",
                extra={"tenant_id": record.tenant_id, "room": record.room_name, "error": exc.message},
            )
    services.queue.send(queue_body(record), key=f"call:{record.room_name}")
    return True


def queue_body(record: CallRecord) -> str:
    """The record as a queue message; a transcript too long for one keeps its first entry (the
    greeting with the notice) and as many of the last as fit, with a note of how many were cut."""
    body = record.model_dump_json()
    transcript, keep = record.transcript, len(record.transcript)
    while len(body.encode()) > QUEUE_MESSAGE_LIMIT and keep > 0:
        keep //= 2
        cut = {"type": "cut", "entries": len(transcript) - 1 - keep}
        shortened = [*transcript[:1], cut, *transcript[len(transcript) - keep :]]
        body = record.model_copy(update={"transcript": shortened}).model_dump_json()
    return body


def ingest_queued_call_record(services: Services, record: CallRecord) -> bool:
    """Store a record that waited in the queue; returns whether it had a tenant to be stored in.

    A record refused before its tenant was known finds it by the dialed number; one that no tenant
    owns is logged like any call to nobody's number. Raises `TransientError` while Postgres is still
    down (SQS delivers the message again).
    """
    if record.tenant_id is None and record.dialed_number:
        record = record.model_copy(update={"tenant_id": tenant_id_for_number(services, record.dialed_number)})
    if record.tenant_id is None:
        log_rejected_call(record.dialed_number, record.caller_number, "no_tenant")
        return False
    tenant_id, made = record.tenant_id, record.started_at or record.ended_at
    if made and erased_since(
        services.db, lambda: services.settings.privacy_key, tenant_id, [record.caller_number], made
    ):
        # The caller's data was erased while the record waited: stored as the erasure left their calls.
        room = stored_room_name(record.room_name)
        record = record.model_copy(update={"caller_number": None, "transcript": [], "room_name": room})
    store_call_record(services, tenant_id, record)
    logger.info(
        "queued call record ingested",
        extra={"tenant_id": record.tenant_id, "room": record.room_name, "outcome": record.outcome},
    )
    return True


def store_call_record(services: Services, tenant_id: str, record: CallRecord) -> None:
    """Upsert the call's row in the tenant's schema; fields already known (e.g. from webhooks) are
    kept when we know less, and writing the same record again changes nothing."""
    _upsert(services, tenant_id, record, checkpoint=False)


def store_call_checkpoint(services: Services, tenant_id: str, record: CallRecord) -> None:
    """Upsert the record of a call still in progress (its transcript so far, the notice time), so a
    worker killed mid-call leaves what was said. Postgres only: a checkpoint is never queued.

    The row is new or kept `in_progress` (or what the webhooks made it); a row the agent's final
    record has reached (it has an outcome) is left as it is, so a late checkpoint never wins. Raises
    `TransientError` while Postgres is down (the caller skips the checkpoint).
    """
    _upsert(services, tenant_id, record.model_copy(update={"outcome": None, "ended_at": None}), checkpoint=True)


def _upsert(services: Services, tenant_id: str, record: CallRecord, *, checkpoint: bool) -> None:
    # Only the final record sets the status and outcome; a checkpoint leaves a row that has an outcome.
    final_fields = sql.SQL("" if checkpoint else "status = EXCLUDED.status, outcome = EXCLUDED.outcome,")
    guard = sql.SQL(" WHERE c.outcome IS NULL" if checkpoint else "")
    schema = sql.Identifier(schema_name(tenant_id))
    started_at, ended_at = record.started_at, record.ended_at
    duration = int((ended_at - started_at).total_seconds()) if started_at and ended_at else None
    with services.db.transaction() as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {schema}.calls AS c (room_name, caller_number, dialed_number, language, status, outcome,"
                " started_at, ended_at, duration_seconds, transcript, latency, notice_played_at)"
                " VALUES (%(room)s, %(caller)s, %(dialed)s, %(language)s, %(status)s, %(outcome)s, %(started)s,"
                " %(ended)s, %(duration)s, %(transcript)s, %(latency)s, %(notice)s)"
                " ON CONFLICT (room_name) DO UPDATE SET"
                " caller_number = COALESCE(c.caller_number, EXCLUDED.caller_number),"
                " dialed_number = COALESCE(c.dialed_number, EXCLUDED.dialed_number),"
                " language = EXCLUDED.language, {final_fields}"
                " started_at = LEAST(c.started_at, EXCLUDED.started_at),"
                " ended_at = GREATEST(c.ended_at, EXCLUDED.ended_at),"
                # From the earliest start and the latest end anyone reported, whoever writes last.
                " duration_seconds = COALESCE(GREATEST(0, floor(extract(epoch FROM"
                " GREATEST(c.ended_at, EXCLUDED.ended_at) - LEAST(c.started_at, EXCLUDED.started_at))))::integer,"
                " c.duration_seconds),"
                " transcript = EXCLUDED.transcript, latency = EXCLUDED.latency,"
                " notice_played_at = COALESCE(c.notice_played_at, EXCLUDED.notice_played_at), updated_at = now()"
                "{guard}"
            ).format(schema=schema, final_fields=final_fields, guard=guard),
            {
                "room": record.room_name,
                "status": "in_progress" if checkpoint else record.status,
                "caller": record.caller_number,
                "dialed": record.dialed_number,
                "language": record.language,
                "outcome": record.outcome,
                "started": started_at,
                "ended": ended_at,
                "duration": duration,
                "transcript": Jsonb(record.transcript),
                "latency": Jsonb(record.latency),
                "notice": record.notice_played_at,
            },
        )
        conn.execute(
            sql.SQL(
                "UPDATE {schema}.complaints SET call_id = (SELECT id FROM {schema}.calls WHERE room_name = %s)"
                " WHERE room_name = %s AND call_id IS NULL"
            ).format(schema=schema),
            (record.room_name, record.room_name),
        )


def log_rejected_call(dialed_number: str | None, caller_number: str | None, reason: str) -> None:
    """A call no active tenant owns: nothing to store it in, so it is an event in the logs."""
    logger.warning(
        "call rejected",
        extra={"dialed": mask_phone(dialed_number), "caller": mask_phone(caller_number), "reason": reason},
    )
