"""Call records: one row per LiveKit room, written by the agent after the call (and, later, by the
LiveKit webhooks, which converge on the same row)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb

from mla_core.adapters import Services
from mla_core.core.names import schema_name
from mla_core.core.privacy import mask_phone

logger = logging.getLogger(__name__)


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
    """Upsert the call's row; fields already known (e.g. from webhooks) are kept when we know less."""
    schema = sql.Identifier(schema_name(tenant_id))
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
                " language = EXCLUDED.language, status = EXCLUDED.status, outcome = EXCLUDED.outcome,"
                " started_at = LEAST(c.started_at, EXCLUDED.started_at),"
                " ended_at = GREATEST(c.ended_at, EXCLUDED.ended_at),"
                # From the earliest start and the latest end anyone reported, whoever writes last.
                " duration_seconds = COALESCE(GREATEST(0, floor(extract(epoch FROM"
                " GREATEST(c.ended_at, EXCLUDED.ended_at) - LEAST(c.started_at, EXCLUDED.started_at))))::integer,"
                " c.duration_seconds),"
                " transcript = EXCLUDED.transcript, latency = EXCLUDED.latency,"
                " notice_played_at = COALESCE(c.notice_played_at, EXCLUDED.notice_played_at), updated_at = now()"
            ).format(schema=schema),
            {
                "room": room_name,
                "status": status,
                "caller": caller_number,
                "dialed": dialed_number,
                "language": language,
                "outcome": outcome,
                "started": started_at,
                "ended": ended_at,
                "duration": duration,
                "transcript": Jsonb(transcript),
                "latency": Jsonb(latency),
                "notice": notice_played_at,
            },
        )
        conn.execute(
            sql.SQL(
                "UPDATE {schema}.complaints SET call_id = (SELECT id FROM {schema}.calls WHERE room_name = %s)"
                " WHERE room_name = %s AND call_id IS NULL"
            ).format(schema=schema),
            (room_name, room_name),
        )


def log_rejected_call(dialed_number: str | None, caller_number: str | None, reason: str) -> None:
    """A call no active tenant owns: nothing to store it in, so it is an event in the logs."""
    logger.warning(
        "call rejected",
        extra={"dialed": dialed_number, "caller": mask_phone(caller_number), "reason": reason},
    )
