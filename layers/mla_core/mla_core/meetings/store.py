"""Meetings in an office's schema (tenant migration 0012): one function per query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

from mla_core.core.names import schema_name
from mla_core.db import Conn
from mla_core.meetings.models import Meeting, MeetingFilters, NewSegment, Participant, Segment

COLUMNS = (
    "id", "kind", "title", "agenda", "location", "languages", "scheduled_at", "duration_minutes", "status",
    "room_name", "recording", "recording_wanted", "recording_url", "started_at", "ended_at", "created_by",
    "created_at", "updated_at", "version",
)  # fmt: skip
PARTICIPANT_COLUMNS = (
    "identity", "name", "role", "phone", "hall_microphone", "joined_at", "left_at", "muted", "removed_at",
)  # fmt: skip
LATE_SEGMENTS = timedelta(minutes=5)
_SELECT = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
_PARTICIPANT = sql.SQL(", ").join(sql.Identifier(c) for c in PARTICIPANT_COLUMNS)


def table(tenant_id: str, name: str = "meetings") -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema_name(tenant_id)), sql.Identifier(name))


def insert(conn: Conn, tenant_id: str, values: dict[str, Any]) -> Meeting:
    columns = list(values)
    row = conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
            table(tenant_id),
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
            _SELECT,
        ),
        values,
    ).fetchone()
    assert row is not None
    return Meeting.model_validate(row)


def find(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, *, lock: bool = False) -> Meeting | None:
    row = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE id = %s{}").format(
            _SELECT, table(tenant_id), sql.SQL(" FOR UPDATE") if lock else sql.SQL("")
        ),
        (meeting_id,),
    ).fetchone()
    return Meeting.model_validate(row) if row else None


def update(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, changes: dict[str, Any]) -> Meeting:
    """Apply `changes` (column: value), bumping the version."""
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)
    row = conn.execute(
        sql.SQL("UPDATE {} SET {}, version = version + 1, updated_at = now() WHERE id = %(id)s RETURNING {}").format(
            table(tenant_id), assignments, _SELECT
        ),
        {**changes, "id": meeting_id},
    ).fetchone()
    assert row is not None
    return Meeting.model_validate(row)


def delete(conn: Conn, tenant_id: str, meeting_id: uuid.UUID) -> None:
    conn.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(table(tenant_id)), (meeting_id,))


def listed(
    conn: Conn, tenant_id: str, filters: MeetingFilters, *, after: tuple[datetime, uuid.UUID] | None
) -> list[Meeting]:
    """One page (and one more row) in the filters' order, keyset on (scheduled_at, id)."""
    clauses: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list[Any] = []
    if filters.status:
        clauses.append(sql.SQL("status = %s"))
        params.append(filters.status)
    if filters.kind:
        clauses.append(sql.SQL("kind = %s"))
        params.append(filters.kind)
    if filters.starts_from:
        clauses.append(sql.SQL("scheduled_at >= %s"))
        params.append(filters.starts_from)
    if filters.starts_before:
        clauses.append(sql.SQL("scheduled_at < %s"))
        params.append(filters.starts_before)
    ascending = filters.order == "asc"
    if after is not None:
        clauses.append(sql.SQL("(scheduled_at, id) > (%s, %s)" if ascending else "(scheduled_at, id) < (%s, %s)"))
        params.extend(after)
    direction = sql.SQL("ASC" if ascending else "DESC")
    params.append(filters.limit + 1)
    rows = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY scheduled_at {}, id {} LIMIT %s").format(
            _SELECT, table(tenant_id), sql.SQL(" AND ").join(clauses), direction, direction
        ),
        params,
    ).fetchall()
    return [Meeting.model_validate(row) for row in rows]


# Participants ---------------------------------------------------------------------------------


def participants(conn: Conn, tenant_id: str, meeting_id: uuid.UUID) -> list[Participant]:
    rows = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE meeting_id = %s ORDER BY created_at, identity").format(
            _PARTICIPANT, table(tenant_id, "meeting_participants")
        ),
        (meeting_id,),
    ).fetchall()
    return [Participant.model_validate(row) for row in rows]


def participant(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, identity: str) -> Participant | None:
    row = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE meeting_id = %s AND identity = %s").format(
            _PARTICIPANT, table(tenant_id, "meeting_participants")
        ),
        (meeting_id, identity),
    ).fetchone()
    return Participant.model_validate(row) if row else None


def upsert_participant(
    conn: Conn,
    tenant_id: str,
    meeting_id: uuid.UUID,
    *,
    identity: str,
    name: str,
    role: str,
    phone: str | None = None,
    hall_microphone: bool = False,
    user_id: str | None = None,
) -> Participant:
    """Add a participant, or bring their name, number and microphone up to date (the role stays)."""
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {t} AS p (meeting_id, identity, name, role, phone, hall_microphone, user_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (meeting_id, identity) DO UPDATE SET name = EXCLUDED.name,"
            "  phone = COALESCE(EXCLUDED.phone, p.phone), hall_microphone = EXCLUDED.hall_microphone"
            " RETURNING {cols}"
        ).format(t=table(tenant_id, "meeting_participants"), cols=_PARTICIPANT),
        (meeting_id, identity, name, role, phone, hall_microphone, user_id),
    ).fetchone()
    assert row is not None
    return Participant.model_validate(row)


def set_participant(
    conn: Conn, tenant_id: str, meeting_id: uuid.UUID, identity: str, changes: dict[str, Any]
) -> Participant | None:
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)
    row = conn.execute(
        sql.SQL("UPDATE {} SET {} WHERE meeting_id = %(meeting_id)s AND identity = %(identity)s RETURNING {}").format(
            table(tenant_id, "meeting_participants"), assignments, _PARTICIPANT
        ),
        {**changes, "meeting_id": meeting_id, "identity": identity},
    ).fetchone()
    return Participant.model_validate(row) if row else None


def presence(
    conn: Conn,
    tenant_id: str,
    meeting_id: uuid.UUID,
    identity: str,
    *,
    name: str,
    role: str,
    joined_at: datetime | None = None,
    left_at: datetime | None = None,
) -> None:
    """A join or a leave, in any order: the first join and the last leave are kept."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {} AS p (meeting_id, identity, name, role, joined_at, left_at) VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (meeting_id, identity) DO UPDATE SET"
            "  joined_at = LEAST(p.joined_at, EXCLUDED.joined_at), left_at = GREATEST(p.left_at, EXCLUDED.left_at)"
        ).format(table(tenant_id, "meeting_participants")),
        (meeting_id, identity, name, role, joined_at, left_at),
    )


# Segments -------------------------------------------------------------------------------------


def insert_segments(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, segments: Sequence[NewSegment]) -> list[int]:
    """Store final segments (a key already stored is skipped); the ids of those stored now. Only while
    the meeting is live and transcribed, or just ended (`LATE_SEGMENTS`): the last words' segments come
    in after the room closed."""
    if not segments:
        return []
    rows = conn.execute(
        sql.SQL(
            "INSERT INTO {s} (meeting_id, participant_identity, speaker_label, language, text, start_ms, end_ms,"
            " segment_key) SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::int[],"
            " %s::int[], %s::text[]) WHERE EXISTS (SELECT FROM {m} WHERE id = %s AND recording <> 'stopped'"
            "  AND (status = 'live' OR (status = 'ended' AND ended_at > now() - {grace})))"
            " ON CONFLICT (meeting_id, segment_key) DO NOTHING RETURNING id"
        ).format(s=table(tenant_id, "meeting_segments"), m=table(tenant_id), grace=sql.Literal(LATE_SEGMENTS)),
        (
            meeting_id,
            [s.participant_identity for s in segments],
            [s.speaker_label for s in segments],
            [s.language for s in segments],
            [s.text for s in segments],
            [s.start_ms for s in segments],
            [max(s.end_ms, s.start_ms) for s in segments],
            [s.segment_key for s in segments],
            meeting_id,
        ),
    ).fetchall()
    return [row["id"] for row in rows]


def segments(
    conn: Conn,
    tenant_id: str,
    meeting_id: uuid.UUID,
    *,
    after: int = 0,
    limit: int | None = None,
    only: Sequence[int] | None = None,
) -> list[Segment]:
    """The transcript in the order it was spoken; `after` a segment id, those stored since (the live page);
    `only` these segments (an item's)."""
    rows = conn.execute(
        sql.SQL(
            "SELECT s.id, s.participant_identity, s.speaker_label, s.language, s.text, s.start_ms, s.end_ms,"
            " s.is_final, COALESCE(p.name, s.participant_identity) AS name"
            " FROM {s} s LEFT JOIN {p} p ON p.meeting_id = s.meeting_id AND p.identity = s.participant_identity"
            " WHERE s.meeting_id = %s AND s.id > %s AND (%s::bigint[] IS NULL OR s.id = ANY(%s::bigint[]))"
            " ORDER BY {order} LIMIT %s"
        ).format(
            s=table(tenant_id, "meeting_segments"),
            p=table(tenant_id, "meeting_participants"),
            order=sql.SQL("s.id" if after else "s.start_ms, s.id"),
        ),
        (meeting_id, after, only, only, limit),
    ).fetchall()
    return [
        Segment(
            speaker=f"{row['name']} · {row['speaker_label']}" if row["speaker_label"] else row["name"],
            **{k: v for k, v in row.items() if k != "name"},
        )
        for row in rows
    ]


def segment_count(conn: Conn, tenant_id: str, meeting_id: uuid.UUID) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) AS n FROM {} WHERE meeting_id = %s").format(table(tenant_id, "meeting_segments")),
        (meeting_id,),
    ).fetchone()
    return int(row["n"]) if row else 0


# Summaries and items (tenant migration 0013) ------------------------------------------------------

ITEM_COLUMNS = (
    "id", "meeting_id", "kind", "text", "speaker_identity", "speaker_name", "place", "category", "suggested_owner",
    "owner_user_id", "due_date", "status", "segment_ids", "complaint_id", "phone", "position", "created_by",
    "created_at", "updated_at", "version",
)  # fmt: skip
_ITEM = sql.SQL(", ").join(sql.Identifier("i", c) for c in ITEM_COLUMNS)


def summary_row(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    return conn.execute(
        sql.SQL("SELECT * FROM {} WHERE meeting_id = %s{}").format(
            table(tenant_id, "meeting_summaries"), sql.SQL(" FOR UPDATE") if lock else sql.SQL("")
        ),
        (meeting_id,),
    ).fetchone()


def claim_summary(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, *, again: bool) -> bool:
    """A pending summary row for the meeting: True when one was made (or, `again`, one that had
    finished was set back to pending); False when one is already pending or done."""
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {t} AS s (meeting_id) VALUES (%s) ON CONFLICT (meeting_id) DO UPDATE"
            " SET status = 'pending', error = NULL, finished_at = NULL"
            " WHERE s.status = 'failed' OR (%s AND s.status = 'succeeded') RETURNING meeting_id"
        ).format(t=table(tenant_id, "meeting_summaries")),
        (meeting_id, again),
    ).fetchone()
    return row is not None


def finish_summary(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, changes: dict[str, Any]) -> None:
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)
    conn.execute(
        sql.SQL("UPDATE {} SET {}, finished_at = now() WHERE meeting_id = %(meeting_id)s").format(
            table(tenant_id, "meeting_summaries"), assignments
        ),
        {**changes, "meeting_id": meeting_id},
    )


def count_attempt(conn: Conn, tenant_id: str, meeting_id: uuid.UUID, error: str) -> None:
    conn.execute(
        sql.SQL("UPDATE {} SET attempts = attempts + 1, error = %s WHERE meeting_id = %s").format(
            table(tenant_id, "meeting_summaries")
        ),
        (error, meeting_id),
    )


def replace_proposed_items(
    conn: Conn, tenant_id: str, meeting_id: uuid.UUID, items: Sequence[dict[str, Any]], *, actor: str
) -> None:
    """The summary's items, instead of those an earlier summary proposed that nobody has reviewed."""
    t = table(tenant_id, "meeting_items")
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE meeting_id = %s AND status = 'proposed' AND created_by = %s").format(t),
        (meeting_id, actor),
    )
    for position, item in enumerate(items):
        columns = [*item, "meeting_id", "position", "created_by"]
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                t,
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
            ),
            {**item, "meeting_id": meeting_id, "position": position, "created_by": actor},
        )


def _item_select(tenant_id: str) -> sql.Composed:
    return sql.SQL(
        "SELECT {cols}, c.reference AS complaint_reference, c.status AS complaint_status"
        " FROM {i} i LEFT JOIN {c} c ON c.id = i.complaint_id"
    ).format(cols=_ITEM, i=table(tenant_id, "meeting_items"), c=table(tenant_id, "complaints"))


def items(conn: Conn, tenant_id: str, meeting_id: uuid.UUID) -> list[dict[str, Any]]:
    return conn.execute(
        _item_select(tenant_id) + sql.SQL(" WHERE i.meeting_id = %s ORDER BY i.kind, i.position, i.created_at"),
        (meeting_id,),
    ).fetchall()


def item(
    conn: Conn, tenant_id: str, meeting_id: uuid.UUID, item_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    return conn.execute(
        _item_select(tenant_id)
        + sql.SQL(" WHERE i.meeting_id = %s AND i.id = %s")
        + (sql.SQL(" FOR UPDATE OF i") if lock else sql.SQL("")),
        (meeting_id, item_id),
    ).fetchone()


def update_item(conn: Conn, tenant_id: str, item_id: uuid.UUID, changes: dict[str, Any]) -> None:
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)
    conn.execute(
        sql.SQL("UPDATE {} SET {}, version = version + 1, updated_at = now() WHERE id = %(id)s").format(
            table(tenant_id, "meeting_items"), assignments
        ),
        {**changes, "id": item_id},
    )
