"""A constituent's personal data in the call records, for `mla_core.privacy`: what an export gives them
and what an erasure removes.

A person's calls are those that came from their number, and a hidden caller's calls in which the
number was said (a hidden caller gives it as the number to send the SMS to). Erasure keeps a call's
facts (direction, language, status, outcome, times, duration, latency, the office's dialed number) and
removes its caller's number, its transcript and its recording; the recording's object is deleted after
the transaction commits (`Erased.objects`). Someone else's call in which the number was said keeps its
transcript with the number redacted. Room names are kept in their stored form (`stored_room_name`),
which has no number in it, here and in the platform's webhook records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from mla_core.calls.webhook_events import purge_webhook_events
from mla_core.core.names import stored_room_name
from mla_core.core.privacy import map_text, redact_mentions
from mla_core.core.retention import WEBHOOK_EVENT_DAYS, RetentionPolicy
from mla_core.db import Conn, Database
from mla_core.db.personal_data import Erased, Subject, mentions, register


def _persons_calls(conn: Conn, subject: Subject, *, lock: bool = False) -> list[dict[str, Any]]:
    query = sql.SQL(
        "SELECT to_jsonb(c) AS row, c.id, c.room_name, c.recording_url, c.transcript, c.caller_number FROM {} c"
        " WHERE c.caller_number = %s OR {said}"
        " ORDER BY c.created_at{lock}"
    ).format(
        sql.Identifier(subject.schema, "calls"),
        said=mentions(sql.Identifier("c", "transcript"), subject.e164),
        lock=sql.SQL(" FOR UPDATE") if lock else sql.SQL(""),
    )
    rows = conn.execute(query, (subject.e164,)).fetchall()
    for row in rows:
        row["theirs"] = row["caller_number"] in (subject.e164, None)
    return rows


def _redacted(transcript: Any, e164: str) -> Any:
    """A transcript with every mention of the number redacted in its strings (what was said, tool arguments)."""
    return map_text(transcript, lambda text: redact_mentions(text, e164))


class CallsPersonalData:
    name = "calls"
    columns: Mapping[str, Sequence[str]] = {
        "calls": ("room_name", "caller_number", "transcript", "recording_url"),
        # Until every room name is stored without the number, LiveKit's raw names carry it.
        "platform.webhook_events": ("room_name",),
    }
    not_personal: Mapping[str, Sequence[str]] = {
        "calls": ("dialed_number", "direction", "language", "status", "outcome", "end_reason", "latency"),
        "platform.webhook_events": ("id", "event", "tenant_id"),
    }

    def export(self, conn: Conn, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        rows = _persons_calls(conn, subject)
        return {"calls": [{**row["row"], "yours": row["theirs"]} for row in rows]}

    def erase(self, conn: Conn, subject: Subject) -> Erased:
        calls = sql.Identifier(subject.schema, "calls")
        erased = Erased(counts={"calls": 0, "transcripts_mentioning": 0, "recordings": 0})
        rooms: list[str] = []
        for row in _persons_calls(conn, subject, lock=True):
            if not row["theirs"]:
                conn.execute(
                    sql.SQL("UPDATE {} SET transcript = %s WHERE id = %s").format(calls),
                    (Jsonb(_redacted(row["transcript"], subject.e164)), row["id"]),
                )
                erased.counts["transcripts_mentioning"] += 1
                continue
            stored = stored_room_name(row["room_name"])
            taken = (
                stored != row["room_name"]
                and conn.execute(sql.SQL("SELECT 1 FROM {} WHERE room_name = %s").format(calls), (stored,)).fetchone()
            )
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET caller_number = NULL, transcript = '[]'::jsonb, recording_url = NULL, room_name = %s,"
                    " erased_at = now() WHERE id = %s"
                ).format(calls),
                (row["room_name"] if taken else stored, row["id"]),
            )
            rooms.append(row["room_name"])
            erased.counts["calls"] += 1
            if row["recording_url"]:
                erased.objects.append(row["recording_url"])
                erased.counts["recordings"] += 1
        erased.counts["webhook_events"] = _store_room_names(conn, subject, rooms)
        return erased

    def expire(self, conn: Conn, schema: str, policy: RetentionPolicy, now: datetime) -> Erased:
        """Retention's pass over the call records, up to `EXPIRE_BATCH` calls of each kind (the job calls
        again until nothing is left): a call whose complaints all closed more than
        `transcripts_after_close` days ago loses its transcript and recording; a call that logged no
        complaint, `calls_without_complaint` days after it ended, loses those and its caller's number
        too. Its facts (times, outcome, language, latency) stay; recordings' objects go after the commit."""
        transcripts = _expire_calls(
            conn,
            sql.SQL(
                "EXISTS ({linked}) AND NOT EXISTS ({linked} AND (x.status <> ALL({closed})"
                " OR COALESCE(x.closed_at, x.resolved_at, x.updated_at) >= %(cutoff)s))"
                " AND (k.transcript <> '[]'::jsonb OR k.recording_url IS NOT NULL)"
            ),
            sql.SQL("transcript = '[]'::jsonb, recording_url = NULL"),
            schema,
            now - timedelta(days=policy.transcripts_after_close),
        )
        unlinked = _expire_calls(
            conn,
            sql.SQL(
                "NOT EXISTS ({linked}) AND COALESCE(k.ended_at, k.created_at) < %(cutoff)s"
                " AND (k.caller_number IS NOT NULL OR k.transcript <> '[]'::jsonb OR k.recording_url IS NOT NULL)"
            ),
            sql.SQL("caller_number = NULL, transcript = '[]'::jsonb, recording_url = NULL, erased_at = now()"),
            schema,
            now - timedelta(days=policy.calls_without_complaint),
        )
        erased = Erased(counts={"transcripts": len(transcripts), "calls_without_complaint": len(unlinked)})
        erased.objects = [url for url in (*transcripts, *unlinked) if url]
        erased.counts["recordings"] = len(erased.objects)
        return erased


EXPIRE_BATCH = 5_000
# A complaint's statuses once it is no longer open (every status but `complaints.lifecycle.OPEN`; the
# calls cannot import the complaints: tests/unit/test_retention_policy.py holds the two together).
CLOSED_STATUSES = ("resolved", "closed", "duplicate", "transferred")


def _expire_calls(
    conn: Conn, expired: sql.SQL, assignments: sql.SQL, schema: str, cutoff: datetime
) -> list[str | None]:
    """Apply `assignments` to up to `EXPIRE_BATCH` calls `k` matching `expired` (in which `{linked}` is
    the query of the complaints `x` taken on the call); the recordings' locations they had."""
    calls, complaints = sql.Identifier(schema, "calls"), sql.Identifier(schema, "complaints")
    linked = sql.SQL("SELECT FROM {} x WHERE (x.call_id = k.id OR x.room_name = k.room_name)").format(complaints)
    query = sql.SQL(
        "WITH picked AS (SELECT k.id, k.recording_url FROM {calls} k WHERE {expired} ORDER BY k.id LIMIT %(batch)s"
        " FOR UPDATE OF k SKIP LOCKED)"
        " UPDATE {calls} c SET {assignments} FROM picked WHERE c.id = picked.id RETURNING picked.recording_url"
    ).format(
        calls=calls,
        expired=expired.format(linked=linked, closed=sql.Literal(list(CLOSED_STATUSES))),
        assignments=assignments,
    )
    rows = conn.execute(query, {"cutoff": cutoff, "batch": EXPIRE_BATCH}).fetchall()
    return [row["recording_url"] for row in rows]


def _store_room_names(conn: Conn, subject: Subject, rooms: list[str]) -> int:
    """The office's webhook records of the person's calls, or naming the number, renamed to the stored form."""
    found = conn.execute(
        sql.SQL(
            "SELECT DISTINCT room_name FROM platform.webhook_events WHERE tenant_id = %s AND (room_name = ANY(%s) OR {})"
        ).format(mentions(sql.Identifier("room_name"), subject.e164)),
        (subject.tenant_id, rooms),
    ).fetchall()
    changed = 0
    for row in found:
        changed += conn.execute(
            "UPDATE platform.webhook_events SET room_name = %s WHERE tenant_id = %s AND room_name = %s",
            (stored_room_name(row["room_name"]), subject.tenant_id, row["room_name"]),
        ).rowcount
    return changed


def expire_webhook_events(db: Database, now: datetime, *, dry_run: bool = False) -> int:
    """The platform's LiveKit webhook records older than `WEBHOOK_EVENT_DAYS` before `now`, deleted in
    batches (the retention job's, every run); `dry_run` counts them."""
    older_than = timedelta(days=WEBHOOK_EVENT_DAYS)
    if dry_run:
        return purge_webhook_events(db, older_than=older_than, now=now, dry_run=True, batch=2**31 - 1)
    total = 0
    while purged := purge_webhook_events(db, older_than=older_than, now=now):
        total += purged
    return total


calls = register(CallsPersonalData())
