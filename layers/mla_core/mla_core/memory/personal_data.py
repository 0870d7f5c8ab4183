"""A constituent's personal data in caller memory, for `mla_core.privacy`: an export gives them every
memory kept of their number (deleted ones included, while they are kept), with its history, its
extraction jobs and the "forget me" requests they made on calls; an erasure removes them all (the
erasure is what such a request asks for), and redacts the number where another caller's memory mentions
it. Retention removes a memory `caller_memory` days after it last changed (or once its own expiry
passed), a deleted one with it, and a finished job's record and a handled request's after the same time.
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


class MemoryPersonalData:
    name = "caller_memory"
    columns: Mapping[str, Sequence[str]] = {
        "caller_memories": ("caller_phone", "person", "memory", "metadata"),
        "caller_memory_history": ("old_memory", "new_memory"),
        "memory_jobs": ("caller_phone", "person", "messages", "results"),
        "erasure_requests": ("caller_phone",),
    }
    not_personal: Mapping[str, Sequence[str]] = {
        # The agent's id, the call's stored room name (no number in it), the slot's name, the text's hash.
        "caller_memories": ("kind", "slot", "agent_id", "run_id", "hash", "created_by"),
        "caller_memory_history": ("event", "actor", "call_id"),
        "memory_jobs": ("call_id", "status", "error", "actor"),
        "erasure_requests": ("call_id",),
    }

    def export(self, conn: Conn, subject: Subject) -> dict[str, list[dict[str, Any]]]:
        memories, history, jobs = (
            sql.Identifier(subject.schema, t) for t in ("caller_memories", "caller_memory_history", "memory_jobs")
        )
        kept = conn.execute(
            sql.SQL(
                "SELECT to_jsonb(m) - 'embedding' - 'hash' AS row FROM {} m WHERE m.caller_phone = %s ORDER BY m.created_at"
            ).format(memories),
            (subject.e164,),
        ).fetchall()
        changes = conn.execute(
            sql.SQL(
                "SELECT to_jsonb(h) AS row FROM {} h JOIN {} m ON m.id = h.memory_id WHERE m.caller_phone = %s"
                " ORDER BY h.id"
            ).format(history, memories),
            (subject.e164,),
        ).fetchall()
        runs = conn.execute(
            sql.SQL("SELECT to_jsonb(j) AS row FROM {} j WHERE j.caller_phone = %s ORDER BY j.created_at").format(jobs),
            (subject.e164,),
        ).fetchall()
        asked = conn.execute(
            sql.SQL("SELECT to_jsonb(e) AS row FROM {} e WHERE e.caller_phone = %s ORDER BY e.created_at").format(
                sql.Identifier(subject.schema, "erasure_requests")
            ),
            (subject.e164,),
        ).fetchall()
        return {
            "caller_memories": [r["row"] for r in kept],
            "caller_memory_history": [r["row"] for r in changes],
            "memory_jobs": [r["row"] for r in runs],
            "erasure_requests": [r["row"] for r in asked],
        }

    def erase(self, conn: Conn, subject: Subject) -> Erased:
        memories = sql.Identifier(subject.schema, "caller_memories")
        removed = conn.execute(
            sql.SQL("DELETE FROM {} WHERE caller_phone = %s").format(memories), (subject.e164,)
        ).rowcount  # their history goes with them (ON DELETE CASCADE)
        jobs = conn.execute(
            sql.SQL("DELETE FROM {} WHERE caller_phone = %s").format(sql.Identifier(subject.schema, "memory_jobs")),
            (subject.e164,),
        ).rowcount
        requests = conn.execute(
            sql.SQL("DELETE FROM {} WHERE caller_phone = %s").format(
                sql.Identifier(subject.schema, "erasure_requests")
            ),
            (subject.e164,),
        ).rowcount
        mentioning = conn.execute(
            sql.SQL("SELECT id, memory FROM {} m WHERE {} FOR UPDATE").format(
                memories, mentions(sql.Identifier("m", "memory"), subject.e164)
            )
        ).fetchall()
        for row in mentioning:
            conn.execute(
                sql.SQL("UPDATE {} SET memory = %s, embedding = NULL WHERE id = %s").format(memories),
                (redact_mentions(row["memory"], subject.e164), row["id"]),
            )
        history = sql.Identifier(subject.schema, "caller_memory_history")
        said = conn.execute(
            sql.SQL("SELECT id, old_memory, new_memory FROM {} h WHERE {} OR {} FOR UPDATE").format(
                history,
                mentions(sql.Identifier("h", "old_memory"), subject.e164),
                mentions(sql.Identifier("h", "new_memory"), subject.e164),
            )
        ).fetchall()
        for row in said:
            conn.execute(
                sql.SQL("UPDATE {} SET old_memory = %s, new_memory = %s WHERE id = %s").format(history),
                (
                    row["old_memory"] and redact_mentions(row["old_memory"], subject.e164),
                    row["new_memory"] and redact_mentions(row["new_memory"], subject.e164),
                    row["id"],
                ),
            )
        return Erased(
            counts={
                "caller_memories": removed,
                "memory_jobs": jobs,
                "erasure_requests": requests,
                "memories_mentioning": len(mentioning),
            }
        )

    def expire(self, conn: Conn, schema: str, policy: RetentionPolicy, now: datetime) -> Erased:
        cutoff = now - timedelta(days=policy.caller_memory)
        memories = conn.execute(
            sql.SQL(
                "DELETE FROM {} WHERE id IN (SELECT id FROM {} WHERE updated_at < %s OR expires_at < %s LIMIT %s)"
            ).format(sql.Identifier(schema, "caller_memories"), sql.Identifier(schema, "caller_memories")),
            (cutoff, now, EXPIRE_BATCH),
        ).rowcount
        jobs = conn.execute(
            sql.SQL("DELETE FROM {} WHERE created_at < %s").format(sql.Identifier(schema, "memory_jobs")), (cutoff,)
        ).rowcount
        # One still to act on stays, however old: the office has not done what the caller asked.
        handled = conn.execute(
            sql.SQL("DELETE FROM {} WHERE handled_at < %s").format(sql.Identifier(schema, "erasure_requests")),
            (cutoff,),
        ).rowcount
        return Erased(counts={"caller_memories": memories, "memory_jobs": jobs, "erasure_requests": handled})


EXPIRE_BATCH = 5_000

caller_memory = register(MemoryPersonalData())
