"""A constituent's personal data in meetings, for `mla_core.privacy`.

A person's meetings are those they took part in under their number: a citizen's token given with it
(`meeting_participants.phone`). What they said is the transcript's segments of that participant. A hall
microphone is one device for many speakers: its segments are nobody's in particular, so they are neither
exported to nor erased for the number given with it (another person's words would go with them); they
are redacted where they say the number, like every other segment.

An export gives each participation with its meeting's facts, what they said, which recordings hold their
voice (the audio itself is not in the JSON: the office gives a copy on request), and the segments and
meetings of others that mention the number.

An erasure removes their number and name from the participant row (the row stays, as "[name erased]":
the transcript still reads in turns), replaces the words of their segments with "[erased]" (the
timeline, the language and the speaker's random identity stay: no one is named by them), and redacts
the number where someone else's words, or a meeting's title or agenda, say it.

The **recording is kept**: one file holds every voice in the hall, and no one's can be cut out of it,
so deleting it would take the other citizens' record of what they asked with it. It goes when
retention says (`meeting_recordings`, 90 days by default and at most 365, then the bucket's lifecycle
rule), and the erasure says so: its counts name the recordings kept (`meeting_recordings_kept`), and
the preview's sentence says until when. An erasure while a meeting is live covers what was stored by
then (what the person says later is stored again: erase again after the meeting).

Retention, as of its run, for a meeting held (ended, else started, else scheduled) more than
`meeting_transcripts` days before: its segments are deleted and its citizens' names and numbers
removed (the meeting's facts and its staff stay); more than `meeting_recordings` days before: its
recording's location is cleared and the object deleted after the commit (`Erased.objects`, by
`mla_core.privacy.retention` through the recordings bucket's adapter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

from mla_core.core.privacy import redact_mentions
from mla_core.core.retention import RetentionPolicy
from mla_core.db import Conn
from mla_core.db.personal_data import Erased, Subject, mentions, register

ERASED_NAME = "[name erased]"
ERASED_TEXT = "[erased]"
EXPIRE_BATCH = 5_000
# A meeting's recording exists (or will, once its egress ends) in these states.
_RECORDED = sql.SQL("(m.recording_url IS NOT NULL OR m.recording IN ('recording', 'stopped'))")
# When a meeting was held, for retention: ended, else started, else (never held) scheduled.
_HELD = sql.SQL("COALESCE(m.ended_at, m.started_at, m.scheduled_at)")


def _tables(schema: str) -> dict[str, sql.Identifier]:
    return {
        "m": sql.Identifier(schema, "meetings"),
        "p": sql.Identifier(schema, "meeting_participants"),
        "s": sql.Identifier(schema, "meeting_segments"),
        "i": sql.Identifier(schema, "meeting_items"),
    }


def _participations(conn: Conn, subject: Subject, *, lock: bool = False) -> list[dict[str, Any]]:
    """The person's participant rows (by number), each with its meeting's facts."""
    query = sql.SQL(
        "SELECT p.id, p.meeting_id, p.identity, p.hall_microphone, {recorded} AS recorded,"
        " m.title, m.started_at, m.ended_at,"
        " (to_jsonb(p) - 'id' - 'user_id') || jsonb_build_object('meeting', jsonb_build_object('id', m.id,"
        "  'kind', m.kind, 'title', m.title, 'location', m.location, 'languages', m.languages,"
        "  'scheduled_at', m.scheduled_at, 'started_at', m.started_at, 'ended_at', m.ended_at, 'status', m.status,"
        "  'recording', m.recording)) AS row"
        " FROM {p} p JOIN {m} m ON m.id = p.meeting_id WHERE p.phone = %s"
        " ORDER BY m.scheduled_at, p.created_at, p.id{lock}"
    ).format(recorded=_RECORDED, lock=sql.SQL(" FOR UPDATE OF p") if lock else sql.SQL(""), **_tables(subject.schema))
    return conn.execute(query, (subject.e164,)).fetchall()


def _theirs(participations: list[dict[str, Any]]) -> tuple[list[Any], list[str]]:
    """The (meeting, identity) pairs whose segments are the person's words: not a hall microphone's."""
    own = [p for p in participations if not p["hall_microphone"]]
    return [p["meeting_id"] for p in own], [p["identity"] for p in own]


def _spoken(conn: Conn, subject: Subject, participations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    meetings, identities = _theirs(participations)
    if not meetings:
        return []
    return conn.execute(
        sql.SQL(
            "SELECT s.id, to_jsonb(s) - 'id' AS row FROM {s} s"
            " JOIN unnest(%s::uuid[], %s::text[]) AS t(meeting_id, identity)"
            " ON s.meeting_id = t.meeting_id AND s.participant_identity = t.identity"
            " ORDER BY s.meeting_id, s.start_ms, s.id"
        ).format(**_tables(subject.schema)),
        (meetings, identities),
    ).fetchall()


def _segments_mentioning(conn: Conn, subject: Subject, participations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Someone else's segments (a hall microphone's included) that say the number."""
    meetings, identities = _theirs(participations)
    return conn.execute(
        sql.SQL(
            "SELECT s.id, s.meeting_id, s.start_ms, s.text FROM {s} s WHERE {said}"
            " AND (s.meeting_id, s.participant_identity) NOT IN (SELECT * FROM unnest(%s::uuid[], %s::text[]))"
            " ORDER BY s.meeting_id, s.start_ms, s.id"
        ).format(said=mentions(sql.Identifier("s", "text"), subject.e164), **_tables(subject.schema)),
        (meetings, identities),
    ).fetchall()


def _meetings_mentioning(conn: Conn, subject: Subject) -> list[dict[str, Any]]:
    return conn.execute(
        sql.SQL("SELECT m.id, m.title, m.agenda FROM {m} m WHERE {title} OR {agenda} ORDER BY m.scheduled_at").format(
            title=mentions(sql.Identifier("m", "title"), subject.e164),
            agenda=mentions(sql.Identifier("m", "agenda"), subject.e164),
            **_tables(subject.schema),
        )
    ).fetchall()


def _recordings(participations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The meetings whose recording holds the person's voice, once each."""
    seen: dict[Any, dict[str, Any]] = {}
    for p in participations:
        if p["recorded"] and p["meeting_id"] not in seen:
            seen[p["meeting_id"]] = {
                "meeting_id": str(p["meeting_id"]),
                "title": p["title"],
                "started_at": p["started_at"] and p["started_at"].isoformat(),
                "ended_at": p["ended_at"] and p["ended_at"].isoformat(),
            }
    return list(seen.values())


def _items(conn: Conn, subject: Subject, participations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grievance items that are the person's: given with their number, or said by them (not by a hall
    microphone's many speakers)."""
    meetings, identities = _theirs(participations)
    return conn.execute(
        sql.SQL(
            "SELECT i.id, i.meeting_id, i.kind, i.text, i.speaker_name, i.phone, i.place, i.complaint_id FROM {i} i"
            " WHERE i.phone = %s OR (i.meeting_id, i.speaker_identity) IN"
            " (SELECT * FROM unnest(%s::uuid[], %s::text[])) ORDER BY i.created_at"
        ).format(**_tables(subject.schema)),
        (subject.e164, meetings, identities),
    ).fetchall()


class MeetingsPersonalData:
    name = "meetings"
    columns: Mapping[str, Sequence[str]] = {
        # A title or agenda is the office's, but may say a number (redacted on erasure); the recording's
        # location leads to everyone's voices (cleared by retention).
        "meetings": ("title", "agenda", "recording_url"),
        "meeting_participants": ("name", "phone"),
        "meeting_segments": ("text",),
        # A grievance item is what a citizen said, with their name and number; the minutes are the office's
        # record of the meeting (a number in them is redacted on erasure; they are kept with the meeting).
        "meeting_items": ("text", "speaker_name", "phone", "place", "suggested_owner"),
        "meeting_summaries": ("minutes",),
    }
    not_personal: Mapping[str, Sequence[str]] = {
        # The room's name is `mla-<tenant>-meet-<id>`; created_by is a staff user's id.
        "meetings": ("kind", "location", "languages", "status", "room_name", "recording", "created_by"),
        # A citizen's identity is random (`citizen:<hex>`), staff's their user id.
        "meeting_participants": ("identity", "role", "user_id"),
        "meeting_segments": ("participant_identity", "speaker_label", "language", "segment_key"),
        "meeting_items": ("kind", "speaker_identity", "category", "status", "created_by"),
        "meeting_summaries": ("status", "model", "error"),
    }

    def export(self, conn: Conn, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        participations = _participations(conn, subject)
        return {
            "meetings": [p["row"] for p in participations],
            "meeting_segments": [s["row"] for s in _spoken(conn, subject, participations)],
            "meeting_recordings": _recordings(participations),
            "meeting_segments_mentioning": [
                {"meeting_id": str(s["meeting_id"]), "start_ms": s["start_ms"], "text": s["text"]}
                for s in _segments_mentioning(conn, subject, participations)
            ],
            "meetings_mentioning": [
                {"meeting_id": str(m["id"]), "title": m["title"], "agenda": m["agenda"]}
                for m in _meetings_mentioning(conn, subject)
            ],
            "meeting_items": [
                {k: (str(v) if k in ("id", "meeting_id", "complaint_id") and v else v) for k, v in row.items()}
                for row in _items(conn, subject, participations)
            ],
        }

    def erase(self, conn: Conn, subject: Subject) -> Erased:
        t = _tables(subject.schema)
        participations = _participations(conn, subject, lock=True)
        meetings, identities = _theirs(participations)
        spoken = conn.execute(
            sql.SQL(
                "UPDATE {s} s SET text = %s FROM unnest(%s::uuid[], %s::text[]) AS t(meeting_id, identity)"
                " WHERE s.meeting_id = t.meeting_id AND s.participant_identity = t.identity"
            ).format(**t),
            (ERASED_TEXT, meetings, identities),
        ).rowcount
        conn.execute(
            sql.SQL("UPDATE {p} SET phone = NULL, name = %s WHERE id = ANY(%s)").format(**t),
            (ERASED_NAME, [p["id"] for p in participations]),
        )
        others = _segments_mentioning(conn, subject, participations)
        for row in others:
            conn.execute(
                sql.SQL("UPDATE {s} SET text = %s WHERE id = %s").format(**t),
                (redact_mentions(row["text"], subject.e164), row["id"]),
            )
        items = conn.execute(
            sql.SQL("UPDATE {i} SET text = %s, speaker_name = NULL, phone = NULL WHERE id = ANY(%s)").format(**t),
            (ERASED_TEXT, [row["id"] for row in _items(conn, subject, participations)]),
        ).rowcount
        titled = _meetings_mentioning(conn, subject)
        for row in titled:
            conn.execute(
                sql.SQL(
                    "UPDATE {m} SET title = %s, agenda = %s, version = version + 1, updated_at = now() WHERE id = %s"
                ).format(**t),
                (redact_mentions(row["title"], subject.e164), redact_mentions(row["agenda"], subject.e164), row["id"]),
            )
        return Erased(
            counts={
                "meetings": len(participations),
                "meeting_segments": spoken,
                "meeting_segments_mentioning": len(others),
                "meetings_mentioning": len(titled),
                "meeting_items": items,
                # Not changed: kept until retention deletes them (the module's docstring says why).
                "meeting_recordings_kept": len(_recordings(participations)),
            }
        )

    def expire(self, conn: Conn, schema: str, policy: RetentionPolicy, now: datetime) -> Erased:
        t = _tables(schema)
        transcripts = now - timedelta(days=policy.meeting_transcripts)
        segments = conn.execute(
            sql.SQL(
                "DELETE FROM {s} WHERE id IN (SELECT s.id FROM {s} s JOIN {m} m ON m.id = s.meeting_id"
                " WHERE {held} < %s LIMIT %s)"
            ).format(held=_HELD, **t),
            (transcripts, EXPIRE_BATCH),
        ).rowcount
        citizens = conn.execute(
            sql.SQL(
                "UPDATE {p} SET phone = NULL, name = %s WHERE id IN (SELECT p.id FROM {p} p JOIN {m} m"
                " ON m.id = p.meeting_id WHERE p.role = 'citizen' AND (p.phone IS NOT NULL OR p.name <> %s)"
                " AND {held} < %s LIMIT %s)"
            ).format(held=_HELD, **t),
            (ERASED_NAME, ERASED_NAME, transcripts, EXPIRE_BATCH),
        ).rowcount
        grievances = conn.execute(
            sql.SQL(
                "UPDATE {i} SET text = %s, speaker_name = NULL, phone = NULL, place = NULL WHERE id IN (SELECT i.id"
                " FROM {i} i JOIN {m} m ON m.id = i.meeting_id WHERE i.kind = 'grievance' AND i.text <> %s"
                " AND {held} < %s LIMIT %s)"
            ).format(held=_HELD, **t),
            (ERASED_TEXT, ERASED_TEXT, transcripts, EXPIRE_BATCH),
        ).rowcount
        recordings = conn.execute(
            sql.SQL(
                "WITH picked AS (SELECT m.id, m.recording_url FROM {m} m WHERE m.recording_url IS NOT NULL"
                " AND {held} < %s ORDER BY m.id LIMIT %s FOR UPDATE OF m SKIP LOCKED)"
                " UPDATE {m} k SET recording_url = NULL, version = k.version + 1, updated_at = now() FROM picked"
                " WHERE k.id = picked.id RETURNING picked.recording_url"
            ).format(held=_HELD, **t),
            (now - timedelta(days=policy.meeting_recordings), EXPIRE_BATCH),
        ).fetchall()
        return Erased(
            counts={
                "meeting_segments": segments,
                "meeting_participants": citizens,
                "meeting_items": grievances,
                "meeting_recordings": len(recordings),
            },
            objects=[row["recording_url"] for row in recordings],
        )


meetings = register(MeetingsPersonalData())
