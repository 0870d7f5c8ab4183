"""Caller memories in an office's schema (tenant migration 0010): one function per query.

Every write records its history in the same transaction. A profile slot keeps one current row per
phone and person (a new value updates it: the old text stays in the history); a fact is deduplicated
by its text's hash (Mem0's MD5 of the text). Both rules are unique indexes, so two writers at once
cannot break them: the loser of an insert race reads the winner's row and updates or skips it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from mla_core.core.names import schema_name
from mla_core.db import Conn
from mla_core.memory.models import CallerMemory, ErasureRequest, Event, HistoryEntry, Memory, MemoryResult, Slot

COLUMNS = (
    "id", "memory", "caller_phone", "person", "kind", "slot", "agent_id", "run_id", "complaint_ids", "metadata",
    "hash", "expires_at", "created_by", "created_at", "updated_at",
)  # fmt: skip
_SELECT = sql.SQL(", ").join(sql.Identifier("m", c) for c in COLUMNS)
LIVE = sql.SQL("m.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > now())")
CALL_LOAD_LIMIT = 20  # rows the agent reads at call start: the profile and the newest facts


def table(tenant_id: str, name: str = "caller_memories") -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema_name(tenant_id)), sql.Identifier(name))


def content_hash(text: str) -> str:
    """Mem0's hash of a memory: MD5 of its text (case and spacing folded, so a repeat is one)."""
    return hashlib.md5(" ".join(text.split()).casefold().encode(), usedforsecurity=False).hexdigest()


def vector_literal(embedding: Sequence[float] | None) -> str | None:
    return None if embedding is None else "[" + ",".join(f"{x:.6g}" for x in embedding) + "]"


def as_memory(row: dict[str, Any]) -> Memory:
    return Memory(user_id=row["caller_phone"], **{k: v for k, v in row.items() if k != "caller_phone"})


@dataclass
class NewMemory:
    """What one write stores: the text and whose it is, where it came from, who made it."""

    phone: str
    text: str
    actor: str  # agent:<id>, user:<id>, job:<id>
    person: str = ""
    slot: Slot | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    complaint_ids: list[uuid.UUID] = field(default_factory=list)
    expires_at: datetime | None = None
    embedding: Sequence[float] | None = None


def add(conn: Conn, tenant_id: str, new: NewMemory) -> MemoryResult:
    """Store `new`: ADD a new row; for a slot that has a value, UPDATE it (NONE when it is the same);
    for a fact already remembered, NONE."""
    memories = table(tenant_id)
    digest = content_hash(new.text)
    conflict = (
        sql.SQL("(caller_phone, person, slot) WHERE slot IS NOT NULL AND deleted_at IS NULL")
        if new.slot
        else sql.SQL("(caller_phone, person, hash) WHERE slot IS NULL AND deleted_at IS NULL")
    )
    inserted = conn.execute(
        sql.SQL(
            "INSERT INTO {} (caller_phone, person, kind, slot, memory, agent_id, run_id, complaint_ids, metadata,"
            " hash, embedding, expires_at, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::extensions.vector, %s, %s)"
            " ON CONFLICT {} DO NOTHING RETURNING id"
        ).format(memories, conflict),
        (
            new.phone,
            new.person,
            "profile" if new.slot else "fact",
            new.slot,
            new.text,
            new.agent_id,
            new.run_id,
            new.complaint_ids,
            Jsonb(new.metadata),
            digest,
            vector_literal(new.embedding),
            new.expires_at,
            new.actor,
        ),
    ).fetchone()
    if inserted is not None:
        record(conn, tenant_id, inserted["id"], "ADD", None, new.text, new.actor, new.run_id)
        return MemoryResult(id=inserted["id"], memory=new.text, event="ADD", slot=new.slot)
    key = sql.SQL("m.slot = %s") if new.slot else sql.SQL("m.slot IS NULL AND m.hash = %s")
    current = conn.execute(
        sql.SQL(
            "SELECT m.id, m.memory, m.hash, m.complaint_ids FROM {} m"
            " WHERE m.caller_phone = %s AND m.person = %s AND m.deleted_at IS NULL AND {} FOR UPDATE"
        ).format(memories, key),
        (new.phone, new.person, new.slot or digest),
    ).fetchone()
    if current is None:  # deleted between the insert and this read: a rare race, the caller may retry
        return MemoryResult(id=None, memory=new.text, event="NONE", slot=new.slot)
    linked = [*current["complaint_ids"], *(c for c in new.complaint_ids if c not in current["complaint_ids"])]
    if current["hash"] == digest:
        if linked != current["complaint_ids"]:
            conn.execute(
                sql.SQL("UPDATE {} SET complaint_ids = %s, updated_at = now() WHERE id = %s").format(memories),
                (linked, current["id"]),
            )
        return MemoryResult(id=current["id"], memory=current["memory"], event="NONE", slot=new.slot)
    conn.execute(
        sql.SQL(
            "UPDATE {} SET memory = %s, hash = %s, embedding = %s::extensions.vector, complaint_ids = %s,"
            " agent_id = COALESCE(%s, agent_id), run_id = COALESCE(%s, run_id), metadata = metadata || %s,"
            " expires_at = %s, updated_at = now() WHERE id = %s"
        ).format(memories),
        (
            new.text,
            digest,
            vector_literal(new.embedding),
            linked,
            new.agent_id,
            new.run_id,
            Jsonb(new.metadata),
            new.expires_at,
            current["id"],
        ),
    )
    record(conn, tenant_id, current["id"], "UPDATE", current["memory"], new.text, new.actor, new.run_id)
    return MemoryResult(
        id=current["id"], memory=new.text, event="UPDATE", slot=new.slot, previous_memory=current["memory"]
    )


def record(
    conn: Conn, tenant_id: str, memory_id: uuid.UUID, event: str, old: str | None, new: str | None, actor: str,
    call_id: str | None,
) -> None:  # fmt: skip
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (memory_id, event, old_memory, new_memory, actor, call_id) VALUES (%s, %s, %s, %s, %s, %s)"
        ).format(table(tenant_id, "caller_memory_history")),
        (memory_id, event, old, new, actor, call_id),
    )


def find(conn: Conn, tenant_id: str, memory_id: uuid.UUID, *, lock: bool = False) -> Memory | None:
    row = conn.execute(
        sql.SQL("SELECT {} FROM {} m WHERE m.id = %s AND m.deleted_at IS NULL{}").format(
            _SELECT, table(tenant_id), sql.SQL(" FOR UPDATE") if lock else sql.SQL("")
        ),
        (memory_id,),
    ).fetchone()
    return None if row is None else as_memory(row)


def change(
    conn: Conn,
    tenant_id: str,
    memory: Memory,
    *,
    actor: str,
    text: str | None,
    metadata: dict[str, Any] | None,
    expires_at: datetime | None,
    set_expiry: bool,
    embedding: Sequence[float] | None,
) -> MemoryResult:
    """Mem0's update of one (locked) memory: its text (with its hash and embedding), metadata, expiry."""
    new_text = memory.memory if text is None else text
    conn.execute(
        sql.SQL(
            "UPDATE {} SET memory = %s, hash = %s, embedding = COALESCE(%s::extensions.vector, embedding),"
            " metadata = COALESCE(%s, metadata), expires_at = CASE WHEN %s THEN %s ELSE expires_at END,"
            " updated_at = now() WHERE id = %s"
        ).format(table(tenant_id)),
        (
            new_text,
            content_hash(new_text),
            vector_literal(embedding),
            None if metadata is None else Jsonb(metadata),
            set_expiry,
            expires_at,
            memory.id,
        ),
    )
    event: Event = "UPDATE" if text is not None and text != memory.memory else "NONE"
    record(conn, tenant_id, memory.id, "UPDATE", memory.memory, new_text, actor, None)
    return MemoryResult(id=memory.id, memory=new_text, event=event, slot=memory.slot, previous_memory=memory.memory)


def delete(conn: Conn, tenant_id: str, memory: Memory, *, actor: str, call_id: str | None = None) -> MemoryResult:
    conn.execute(
        sql.SQL("UPDATE {} SET deleted_at = now(), updated_at = now(), embedding = NULL WHERE id = %s").format(
            table(tenant_id)
        ),
        (memory.id,),
    )
    record(conn, tenant_id, memory.id, "DELETE", memory.memory, None, actor, call_id)
    return MemoryResult(id=memory.id, memory=memory.memory, event="DELETE", slot=memory.slot)


def delete_callers(
    conn: Conn, tenant_id: str, phone: str, person: str | None, *, actor: str, call_id: str | None = None
) -> int:
    """Every current memory of a phone (or of one person on it), deleted with its history entry (naming
    the call it was asked on, if any)."""
    person_only = sql.SQL(" AND person = %(person)s") if person is not None else sql.SQL("")
    rows = conn.execute(
        sql.SQL(
            "UPDATE {} SET deleted_at = now(), updated_at = now(), embedding = NULL"
            " WHERE caller_phone = %(phone)s AND deleted_at IS NULL{} RETURNING id, memory"
        ).format(table(tenant_id), person_only),
        {"phone": phone, "person": person},
    ).fetchall()
    for row in rows:
        record(conn, tenant_id, row["id"], "DELETE", row["memory"], None, actor, call_id)
    return len(rows)


def listed(
    conn: Conn, tenant_id: str, condition: sql.Composable, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[Memory]:
    """Live memories matching `condition` (over alias `m`), newest first, `limit` of them after `after`.
    Values are literals in the SQL and nothing is bound, so a `%` a filter holds stays text."""
    keyset = (
        sql.SQL(" AND (m.updated_at, m.id) < ({}, {})").format(sql.Literal(after[0]), sql.Literal(after[1]))
        if after
        else sql.SQL("")
    )
    rows = conn.execute(
        sql.SQL("SELECT {} FROM {} m WHERE {} AND {}{} ORDER BY m.updated_at DESC, m.id DESC LIMIT {}").format(
            _SELECT, table(tenant_id), LIVE, condition, keyset, sql.Literal(limit)
        )
    ).fetchall()
    return [as_memory(row) for row in rows]


def nearest(
    conn: Conn, tenant_id: str, embedding: Sequence[float], condition: sql.Composable, *, top_k: int,
    threshold: float | None,
) -> list[Memory]:  # fmt: skip
    """Live memories matching `condition`, nearest to `embedding` by cosine distance (exact: a search is
    scoped to a caller, an agent or a call, a few rows the phone index finds). Nothing is bound (`listed`)."""
    distance = sql.SQL("(m.embedding OPERATOR(extensions.<=>) q.v)")
    above = sql.SQL(" AND 1 - {} >= {}").format(distance, sql.Literal(threshold)) if threshold else sql.SQL("")
    rows = conn.execute(
        sql.SQL(
            "SELECT {columns}, 1 - {distance} AS score FROM {table} m, (SELECT {query}::extensions.vector AS v) q"
            " WHERE {live} AND {condition} AND m.embedding IS NOT NULL{above} ORDER BY {distance} LIMIT {top_k}"
        ).format(
            columns=_SELECT,
            distance=distance,
            table=table(tenant_id),
            query=sql.Literal(vector_literal(embedding)),
            live=LIVE,
            condition=condition,
            above=above,
            top_k=sql.Literal(top_k),
        )
    ).fetchall()
    return [as_memory(row) for row in rows]


def histories(conn: Conn, tenant_id: str, memory_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[HistoryEntry]]:
    """The history of each memory, oldest first, in one query (a memory without any has none listed)."""
    rows = conn.execute(
        sql.SQL(
            "SELECT id, memory_id, event, old_memory, new_memory, actor, call_id, created_at FROM {}"
            " WHERE memory_id = ANY(%s) ORDER BY id"
        ).format(table(tenant_id, "caller_memory_history")),
        (list(memory_ids),),
    ).fetchall()
    found: dict[uuid.UUID, list[HistoryEntry]] = {}
    for row in rows:
        found.setdefault(row["memory_id"], []).append(HistoryEntry(**row))
    return found


def exists(conn: Conn, tenant_id: str, memory_id: uuid.UUID) -> bool:
    """Whether the memory was ever stored (a deleted one keeps its history)."""
    found = conn.execute(sql.SQL("SELECT 1 FROM {} WHERE id = %s").format(table(tenant_id)), (memory_id,)).fetchone()
    return found is not None


def for_call(conn: Conn, tenant_id: str, phone: str) -> CallerMemory:
    """The agent's one query when it answers: the caller's live memories, newest first."""
    rows = conn.execute(
        sql.SQL(
            "SELECT m.person, m.slot, m.memory, m.complaint_ids FROM {} m"
            " WHERE m.caller_phone = %s AND {} ORDER BY m.updated_at DESC, m.id DESC LIMIT %s"
        ).format(table(tenant_id), LIVE),
        (phone, CALL_LOAD_LIMIT),
    ).fetchall()
    known = CallerMemory()
    for row in rows:
        if row["slot"]:
            known.profiles.setdefault(row["person"], {}).setdefault(row["slot"], row["memory"])
        else:
            known.facts.append(row["memory"])
        known.complaint_ids += [c for c in row["complaint_ids"] if c not in known.complaint_ids]
    return known


_ERASURE_COLUMNS = sql.SQL("id, caller_phone, call_id, created_at, handled_at")


def record_erasure_request(conn: Conn, tenant_id: str, phone: str, call_id: str | None) -> ErasureRequest:
    """A caller's "forget me", recorded for the office: one per call, however often it was asked on it."""
    requests = table(tenant_id, "erasure_requests")
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {} (caller_phone, call_id) VALUES (%s, %s) ON CONFLICT (call_id) DO NOTHING RETURNING {}"
        ).format(requests, _ERASURE_COLUMNS),
        (phone, call_id),
    ).fetchone()
    if row is None:  # asked again on the same call
        row = conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE call_id = %s").format(_ERASURE_COLUMNS, requests), (call_id,)
        ).fetchone()
    assert row is not None
    return ErasureRequest(**row)


def erasure_requests(conn: Conn, tenant_id: str, *, limit: int) -> list[ErasureRequest]:
    """The office's requests still to act on, newest first."""
    rows = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE handled_at IS NULL ORDER BY created_at DESC, id DESC LIMIT %s").format(
            _ERASURE_COLUMNS, table(tenant_id, "erasure_requests")
        ),
        (limit,),
    ).fetchall()
    return [ErasureRequest(**row) for row in rows]


def mark_erasure_request_handled(conn: Conn, tenant_id: str, request_id: uuid.UUID) -> ErasureRequest | None:
    """The request marked handled (one handled already keeps its first time); None when the office has none
    with this id."""
    row = conn.execute(
        sql.SQL("UPDATE {} SET handled_at = COALESCE(handled_at, now()) WHERE id = %s RETURNING {}").format(
            table(tenant_id, "erasure_requests"), _ERASURE_COLUMNS
        ),
        (request_id,),
    ).fetchone()
    return ErasureRequest(**row) if row is not None else None
