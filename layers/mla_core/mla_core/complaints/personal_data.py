"""A constituent's personal data in the complaint tables, for `mla_core.privacy`: what an export gives
them and what an erasure removes (complaints, their timeline and their SMS).

A person's complaints are those whose caller or callback number is theirs, or that sent them an SMS.
Erasure keeps each complaint's facts for the office's statistics (category, area with the number
redacted, dates, status, priority, counts) and removes what names or reaches the person: their name,
numbers, landmark, description, the notes on their complaints, and their SMS's recipient and text. A
mention of the number in anyone else's complaint or note is redacted in place. The Redis keys pinning
their complaints' references go after the transaction commits (`Erased.redis_keys`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

from mla_core.complaints import lifecycle
from mla_core.complaints.models import Complaint
from mla_core.core.names import stored_room_name
from mla_core.core.privacy import redact_mentions
from mla_core.core.retention import RetentionPolicy
from mla_core.db import Conn
from mla_core.db.personal_data import Erased, Subject, mentions, register

ERASED_TEXT = "[erased]"
# The free-text columns of a complaint in which someone else may have written the number.
_TEXTS = ("description", "location", "landmark", "caller_name")


def _t(subject: Subject, table: str) -> sql.Identifier:
    return sql.Identifier(subject.schema, table)


def _persons_complaints(conn: Conn, subject: Subject, *, lock: bool = False) -> list[dict[str, Any]]:
    query = sql.SQL(
        "SELECT to_jsonb(c) - 'search' - 'idempotency_key' AS row, c.id, c.reference, c.status, c.location,"
        " c.room_name, c.idempotency_key, c.caller_number, c.callback_number FROM {complaints} c"
        " WHERE c.caller_number = %(n)s OR c.callback_number = %(n)s"
        "    OR c.id IN (SELECT complaint_id FROM {notifications} WHERE recipient = %(n)s)"
        " ORDER BY c.created_at{lock}"
    ).format(
        complaints=_t(subject, "complaints"),
        notifications=_t(subject, "notifications"),
        lock=sql.SQL(" FOR UPDATE OF c") if lock else sql.SQL(""),
    )
    return conn.execute(query, {"n": subject.e164}).fetchall()


def open_references(conn: Conn, subject: Subject, *, lock: bool = False) -> list[int]:
    """The references of the person's complaints still open (an erasure waits until they are closed);
    `lock` holds their rows until the transaction ends."""
    rows = _persons_complaints(conn, subject, lock=lock)
    return [row["reference"] for row in rows if row["status"] in lifecycle.OPEN]


def _notes_mentioning(conn: Conn, subject: Subject, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    query = sql.SQL(
        "SELECT e.id, x.reference, e.note, e.created_at FROM {events} e JOIN {complaints} x ON x.id = e.complaint_id"
        " WHERE e.note IS NOT NULL AND e.complaint_id <> ALL(%s) AND {mentioned} ORDER BY e.id"
    ).format(
        events=_t(subject, "complaint_events"),
        complaints=_t(subject, "complaints"),
        mentioned=mentions(sql.Identifier("e", "note"), subject.e164),
    )
    return conn.execute(query, (ids,)).fetchall()


def _complaints_mentioning(conn: Conn, subject: Subject, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Other people's complaints whose words mention the number: the reference, and each text that does."""
    found = sql.SQL(" OR ").join(mentions(sql.Identifier(column), subject.e164) for column in _TEXTS)
    columns = sql.SQL(", ").join(map(sql.Identifier, _TEXTS))
    query = sql.SQL("SELECT id, reference, {columns} FROM {complaints} WHERE id <> ALL(%s) AND ({found})").format(
        columns=columns, complaints=_t(subject, "complaints"), found=found
    )
    rows = conn.execute(query, (ids,)).fetchall()
    return [
        {
            "id": row["id"],
            "reference": row["reference"],
            **{c: row[c] for c in _TEXTS if row[c] and redact_mentions(row[c], subject.e164) != row[c]},
        }
        for row in rows
    ]


def _area(location: str | None, *numbers: str | None) -> str | None:
    """The area a complaint names, kept for the statistics, without the numbers of the people it is about."""
    for number in numbers:
        if location and number:
            location = redact_mentions(location, number)
    return location


def anonymised(complaint: Complaint) -> Complaint:
    """A complaint made before its caller's erasure and stored after it (it waited in the queue), as the
    erasure would have left it. Its idempotency key becomes a digest of itself: a redelivery is still
    stored once, and the key (the agent's names the call's room) no longer reaches the number."""
    location = _area(complaint.location, complaint.caller_number, complaint.callback_number)
    key = "erased:" + hashlib.sha256(complaint.idempotency_key.encode()).hexdigest()[:32]
    return complaint.model_copy(
        update={
            "idempotency_key": key,
            "description": ERASED_TEXT,
            "location": location,
            "landmark": None,
            "caller_name": None,
            "caller_number": None,
            "callback_number": None,
            "room_name": stored_room_name(complaint.room_name) if complaint.room_name else None,
            "sms_confirmation": False,
        }
    )


def _by_complaint(
    conn: Conn, subject: Subject, table: str, order: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The rows of `table` (events, notifications) of these complaints, in `order`, by complaint."""
    query = sql.SQL(
        "SELECT complaint_id, to_jsonb(r) - 'complaint_id' - 'id' AS row FROM {} r WHERE complaint_id = ANY(%s)"
        " ORDER BY {}"
    ).format(_t(subject, table), sql.Identifier(order))
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in conn.execute(query, (ids,)).fetchall():
        found.setdefault(row["complaint_id"], []).append(row["row"])
    return found


class ComplaintsPersonalData:
    name = "complaints"
    columns: Mapping[str, Sequence[str]] = {
        "complaints": (
            "description",
            "location",
            "landmark",
            "caller_name",
            "caller_number",
            "callback_number",
            "idempotency_key",
            "room_name",
            "search",
        ),
        "complaint_events": ("actor_id", "note"),
        "notifications": ("recipient", "body", "provider_message_id", "last_error"),
    }
    not_personal: Mapping[str, Sequence[str]] = {
        "complaints": ("channel", "category", "language", "status", "priority", "transferred_to"),
        "complaint_events": ("event_type", "from_status", "to_status", "actor_type", "data"),
        "notifications": ("channel", "purpose", "language", "template_id", "status", "provider"),
    }

    def export(self, conn: Conn, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        complaints = _persons_complaints(conn, subject)
        ids = [row["id"] for row in complaints]
        timelines = _by_complaint(conn, subject, "complaint_events", "id", ids)
        sms = _by_complaint(conn, subject, "notifications", "created_at", ids)
        return {
            "complaints": [
                {
                    **row["row"],
                    "timeline": timelines.get(row["id"], []),
                    "notifications": sms.get(row["id"], []),
                }
                for row in complaints
            ],
            "notes_mentioning": [
                {"reference": n["reference"], "note": n["note"], "created_at": n["created_at"].isoformat()}
                for n in _notes_mentioning(conn, subject, ids)
            ],
            "complaints_mentioning": [
                {k: v for k, v in row.items() if k != "id"} for row in _complaints_mentioning(conn, subject, ids)
            ],
        }

    def erase(self, conn: Conn, subject: Subject) -> Erased:
        complaints = _persons_complaints(conn, subject, lock=True)
        ids = [row["id"] for row in complaints]
        erased = Erased(counts={"complaints": len(complaints)})
        for row in complaints:
            erased.add(_anonymise_complaint(conn, subject, row))
        erased.add(self._erase_timelines(conn, subject, ids))
        erased.add(self._erase_sms(conn, subject, ids))
        erased.add(self._redact_others(conn, subject, ids))
        return erased

    def _erase_timelines(self, conn: Conn, subject: Subject, ids: list[uuid.UUID]) -> Erased:
        events = _t(subject, "complaint_events")
        notes = conn.execute(
            sql.SQL("UPDATE {} SET note = NULL WHERE complaint_id = ANY(%s) AND note IS NOT NULL").format(events),
            (ids,),
        ).rowcount
        # The agent's `created` events name the call's room, which LiveKit's name gives the number.
        rooms = conn.execute(
            sql.SQL(
                "SELECT DISTINCT actor_id FROM {} WHERE complaint_id = ANY(%s) AND actor_type = 'agent'"
                " AND actor_id IS NOT NULL"
            ).format(events),
            (ids,),
        ).fetchall()
        for room in rooms:
            conn.execute(
                sql.SQL("UPDATE {} SET actor_id = %s WHERE complaint_id = ANY(%s) AND actor_id = %s").format(events),
                (stored_room_name(room["actor_id"]), ids, room["actor_id"]),
            )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (complaint_id, event_type, actor_type) SELECT id, 'personal_data_erased', 'system'"
                " FROM unnest(%s::uuid[]) AS id"
            ).format(events),
            (ids,),
        )
        return Erased(counts={"notes": notes})

    def _erase_sms(self, conn: Conn, subject: Subject, ids: list[uuid.UUID]) -> Erased:
        sms = conn.execute(
            sql.SQL(
                "UPDATE {} SET recipient = NULL, body = '', last_error = NULL, provider_message_id = NULL"
                " WHERE complaint_id = ANY(%s) OR recipient = %s"
            ).format(_t(subject, "notifications")),
            (ids, subject.e164),
        ).rowcount
        return Erased(counts={"sms": sms})

    def _redact_others(self, conn: Conn, subject: Subject, ids: list[uuid.UUID]) -> Erased:
        """Mentions of the number in other people's complaints, notes and SMS, redacted where they stand."""
        notes = _notes_mentioning(conn, subject, ids)
        for note in notes:
            conn.execute(
                sql.SQL("UPDATE {} SET note = %s WHERE id = %s").format(_t(subject, "complaint_events")),
                (redact_mentions(note["note"], subject.e164), note["id"]),
            )
        others = _complaints_mentioning(conn, subject, ids)
        for row in others:
            texts = {c: redact_mentions(row[c], subject.e164) for c in _TEXTS if c in row}
            assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in texts)
            conn.execute(
                sql.SQL("UPDATE {} SET {}, version = version + 1 WHERE id = %s").format(
                    _t(subject, "complaints"), assignments
                ),
                (*texts.values(), row["id"]),
            )
        notifications = _t(subject, "notifications")
        sms = conn.execute(
            sql.SQL("SELECT id, body, last_error FROM {} WHERE {} OR {}").format(
                notifications,
                mentions(sql.Identifier("body"), subject.e164),
                mentions(sql.Identifier("last_error"), subject.e164),
            )
        ).fetchall()
        for row in sms:
            conn.execute(
                sql.SQL("UPDATE {} SET body = %s, last_error = %s WHERE id = %s").format(notifications),
                (
                    redact_mentions(row["body"], subject.e164),
                    redact_mentions(row["last_error"], subject.e164) if row["last_error"] else None,
                    row["id"],
                ),
            )
        return Erased(
            counts={"notes_mentioning": len(notes), "complaints_mentioning": len(others), "sms_mentioning": len(sms)}
        )

    def expire(self, conn: Conn, schema: str, policy: RetentionPolicy, now: datetime) -> Erased:
        """Retention's pass over the complaint tables, up to `EXPIRE_BATCH` rows of each kind (the job calls
        again until nothing is left): a complaint closed more than `caller_details_after_close` days ago
        loses its caller's details as an erasure takes them (its statistics stay), and an SMS sent more
        than `sms_after_sent` days ago its recipient and text."""
        complaints = sql.Identifier(schema, "complaints")
        closed = conn.execute(
            sql.SQL(
                "SELECT id, location, room_name, idempotency_key, caller_number, callback_number FROM {}"
                " WHERE erased_at IS NULL AND status <> ALL(%s) AND COALESCE(closed_at, resolved_at, updated_at) < %s"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
            ).format(complaints),
            (list(lifecycle.OPEN), now - timedelta(days=policy.caller_details_after_close), EXPIRE_BATCH),
        ).fetchall()
        tenant_id = schema.removeprefix("archived_").removeprefix("tenant_")
        # Expiry names no person (its rows are found by age): the erasure's helpers use the schema and office.
        expired = Subject(tenant_id=tenant_id, schema=schema, e164="", digest="")
        erased = Erased(counts={"caller_details": len(closed)})
        for row in closed:
            erased.add(_anonymise_complaint(conn, expired, row))
        if closed:
            erased.add(self._erase_timelines(conn, expired, [row["id"] for row in closed]))
        sms = conn.execute(
            sql.SQL(
                "UPDATE {table} SET recipient = NULL, body = '', last_error = NULL, provider_message_id = NULL"
                " WHERE id IN (SELECT id FROM {table} WHERE (recipient IS NOT NULL OR body <> '')"
                " AND status <> 'queued' AND COALESCE(sent_at, created_at) < %s ORDER BY id LIMIT %s"
                " FOR UPDATE SKIP LOCKED)"
            ).format(table=sql.Identifier(schema, "notifications")),
            (now - timedelta(days=policy.sms_after_sent), EXPIRE_BATCH),
        ).rowcount
        erased.counts["sms"] = sms
        return erased


EXPIRE_BATCH = 5_000


def _anonymise_complaint(conn: Conn, subject: Subject, row: dict[str, Any]) -> Erased:
    """One complaint as an erasure or its expiry leaves it: the statistics' columns kept, the caller's
    details gone, the person's and the caller's own numbers redacted from the area it names."""
    location = _area(row["location"], subject.e164, row["caller_number"], row["callback_number"])
    conn.execute(
        sql.SQL(
            "UPDATE {} SET caller_name = NULL, caller_number = NULL, callback_number = NULL, landmark = NULL,"
            " description = %s, location = %s, room_name = %s, idempotency_key = NULL, version = version + 1,"
            " erased_at = now() WHERE id = %s"
        ).format(_t(subject, "complaints")),
        (ERASED_TEXT, location, stored_room_name(row["room_name"]) if row["room_name"] else None, row["id"]),
    )
    if not row["idempotency_key"]:
        return Erased()
    # Imported here: the queue's ingest imports this module for `anonymised`, and needs no Redis SDK.
    from mla_core.adapters.upstash import ComplaintReferences

    return Erased(redis_keys=[ComplaintReferences.pinned_key(subject.tenant_id, row["idempotency_key"])])


complaints = register(ComplaintsPersonalData())
