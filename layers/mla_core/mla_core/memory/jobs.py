"""Extraction in the background: Mem0's `add(infer=True)` and every answered call, never during a call
or an HTTP request. A job waits in SQS (`MemoryQueue`) and runs in the memory function.

- `infer: true` from the API stores the messages on a job row and queues its id (`queue_messages`);
  the answer is the job (Mem0's event id), read back with `GET /api/mem0/events/{id}`.
- A call's end queues the call (`queue_call`: its stored room name and caller's number, no transcript):
  the job reads the call's transcript from its record, so the queue never holds what was said. A call is
  one job however often the message is delivered (`memory_jobs.call_id` is unique).

The model is asked outside any transaction; its decisions are applied in one. A model or embeddings
service that is briefly unavailable leaves the job pending and raises, so SQS delivers it again; one that
refuses, or an answer that cannot be used, fails the job with the reason.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from mla_core.adapters import Services
from mla_core.core.errors import TransientError, VendorError
from mla_core.core.privacy import mask_phone
from mla_core.db import Conn
from mla_core.memory import extraction, store
from mla_core.memory.models import Job, Memory, MemoryResult
from mla_core.memory.store import NewMemory, table

logger = logging.getLogger(__name__)  # the entry point's logger configures it (Powertools, the worker's)


class JobMessage(BaseModel):
    """What the queue holds: which job, or which call (never what was said)."""

    version: Literal[1] = 1
    tenant_id: str
    job_id: uuid.UUID | None = None
    call_id: str | None = None
    phone: str | None = None


def _job(row: dict[str, Any]) -> Job:
    return Job(
        event_id=row["id"],
        status=row["status"].upper(),
        user_id=row["caller_phone"],
        run_id=row["call_id"],
        results=[MemoryResult(**r) for r in row["results"]],
        error=row["error"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


_JOB_COLUMNS = sql.SQL(
    "id, caller_phone, person, call_id, messages, status, results, error, actor, created_at, finished_at"
)


def queue_messages(
    services: Services, tenant_id: str, *, phone: str, person: str, messages: list[dict[str, Any]], actor: str
) -> Job:
    """A job for `messages`, queued; the queue refusing refuses the request (nothing is kept)."""
    with services.db.transaction() as conn:
        row = conn.execute(
            sql.SQL(
                "INSERT INTO {} (caller_phone, person, messages, actor) VALUES (%s, %s, %s, %s) RETURNING {}"
            ).format(table(tenant_id, "memory_jobs"), _JOB_COLUMNS),
            (phone, person, Jsonb(messages), actor),
        ).fetchone()
        assert row is not None
        message = JobMessage(tenant_id=tenant_id, job_id=row["id"])
        services.memory_queue.send(message.model_dump_json(), key=f"memory:{tenant_id}:{row['id']}")
    return _job(row)


def queue_call(services: Services, tenant_id: str, call_id: str, phone: str) -> None:
    """After an answered call from a known number: its extraction, queued (raises as the queue does)."""
    message = JobMessage(tenant_id=tenant_id, call_id=call_id, phone=phone)
    services.memory_queue.send(message.model_dump_json(), key=f"memory:{tenant_id}:{call_id}")


def get(services: Services, tenant_id: str, job_id: uuid.UUID) -> Job:
    from mla_core.core.errors import NotFoundError

    with services.db.transaction() as conn:
        row = conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE id = %s").format(_JOB_COLUMNS, table(tenant_id, "memory_jobs")), (job_id,)
        ).fetchone()
    if row is None:
        raise NotFoundError("memory event not found")
    return _job(row)


def run(services: Services, message: JobMessage) -> Job | None:
    """Run one queued job to its end (None when there is nothing to do: a job already done, or one
    whose request was never committed)."""
    tenant_id = message.tenant_id
    with services.db.transaction() as conn:
        row = _job_row(conn, message)
        if row is None or row["status"] != "pending":
            return None if row is None else _job(row)
        kept = _kept(conn, tenant_id, row["caller_phone"])
        complaint_ids = _call_complaints(conn, tenant_id, row["call_id"]) if row["call_id"] else []
        language = _call_language(conn, tenant_id, row["call_id"]) if row["call_id"] else None
    job_id, actor = row["id"], f"job:{row['id']}"
    try:
        answer = services.openai.complete_json(extraction.prompt(kept, row["messages"]))
        decisions, refused = extraction.parse(answer, kept)
        if language:  # the language they spoke is their preference, whatever the model says
            decisions = [d for d in decisions if d.slot != "language"]
            decisions.append(extraction.Decision(event="ADD", slot="language", text=language, person=row["person"]))
        texts = [d.text for d in decisions if d.event in ("ADD", "UPDATE")]
        vectors = iter(services.openai.embed(texts))
    except VendorError as exc:
        return _finish(services, tenant_id, job_id, "failed", [], exc.message)
    kept_by_id = {m.id: m for m in kept}
    results: list[MemoryResult] = []
    with services.db.transaction() as conn:
        for decision in decisions:
            if decision.event in ("ADD", "UPDATE"):
                current = kept_by_id.get(decision.id) if decision.id else None
                new = NewMemory(
                    phone=row["caller_phone"], text=decision.text, actor=actor,
                    person=current.person if current else (decision.person or row["person"]),
                    slot=current.slot if current else decision.slot, run_id=row["call_id"],
                    complaint_ids=complaint_ids, embedding=next(vectors),
                )  # fmt: skip
                if current is not None and current.slot is None:  # a fact reworded: this row changes
                    results.append(
                        store.change(
                            conn,
                            tenant_id,
                            current,
                            actor=actor,
                            text=decision.text,
                            metadata=None,
                            expires_at=None,
                            set_expiry=False,
                            embedding=new.embedding,
                        )
                    )
                else:
                    results.append(store.add(conn, tenant_id, new))
            elif decision.event == "DELETE" and decision.id in kept_by_id:
                if (found := store.find(conn, tenant_id, decision.id, lock=True)) is not None:
                    results.append(store.delete(conn, tenant_id, found, actor=actor, call_id=row["call_id"]))
            else:
                results.append(MemoryResult(id=decision.id, memory=decision.text, event="NONE", slot=decision.slot))
        job = _finish_in(conn, tenant_id, job_id, "succeeded", results, "; ".join(refused) or None)
    logger.info(
        "memory job done",
        extra={
            "tenant_id": tenant_id,
            "job_id": str(job_id),
            "caller": mask_phone(row["caller_phone"]),
            "events": [r.event for r in results],
            "refused": len(refused),
        },
    )
    return job


def _job_row(conn: Conn, message: JobMessage) -> dict[str, Any] | None:
    jobs = table(message.tenant_id, "memory_jobs")
    if message.job_id is not None:
        return conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE id = %s FOR UPDATE").format(_JOB_COLUMNS, jobs), (message.job_id,)
        ).fetchone()
    call = conn.execute(
        sql.SQL("SELECT transcript, caller_number FROM {} WHERE room_name = %s").format(
            table(message.tenant_id, "calls")
        ),
        (message.call_id,),
    ).fetchone()
    if call is None:  # its record is still in the complaint queue (Postgres was down at the call's end)
        raise TransientError("the call's record is not stored yet")
    if call["caller_number"] != message.phone:  # erased since, or not the number the call came from
        return None
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (caller_phone, call_id, messages, actor) VALUES (%s, %s, %s, 'agent')"
            " ON CONFLICT (call_id) DO NOTHING"
        ).format(jobs),
        (message.phone, message.call_id, Jsonb(_conversation(call["transcript"]))),
    )
    return conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE call_id = %s FOR UPDATE").format(_JOB_COLUMNS, jobs), (message.call_id,)
    ).fetchone()


def _conversation(transcript: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A call's transcript as the messages extraction reads: what the caller and the agent said."""
    return [
        {"role": "user" if entry["role"] == "caller" else "assistant", "content": entry.get("text") or ""}
        for entry in transcript
        if entry.get("type") == "message" and entry.get("text")
    ]


def _kept(conn: Conn, tenant_id: str, phone: str) -> list[Memory]:
    return store.listed(
        conn, tenant_id, sql.SQL("m.caller_phone = {}").format(sql.Literal(phone)), limit=100, after=None
    )


def _call_language(conn: Conn, tenant_id: str, call_id: str) -> str | None:
    row = conn.execute(
        sql.SQL("SELECT language FROM {} WHERE room_name = %s").format(table(tenant_id, "calls")), (call_id,)
    ).fetchone()
    return row["language"] if row else None


def _call_complaints(conn: Conn, tenant_id: str, call_id: str) -> list[uuid.UUID]:
    rows = conn.execute(
        sql.SQL("SELECT id FROM {} WHERE room_name = %s ORDER BY created_at").format(table(tenant_id, "complaints")),
        (call_id,),
    ).fetchall()
    return [row["id"] for row in rows]


def _finish(
    services: Services, tenant_id: str, job_id: uuid.UUID, status: str, results: list[MemoryResult], error: str | None
) -> Job:
    with services.db.transaction() as conn:
        job = _finish_in(conn, tenant_id, job_id, status, results, error)
    logger.warning("memory job failed", extra={"tenant_id": tenant_id, "job_id": str(job_id), "error": error})
    return job


def _finish_in(
    conn: Conn, tenant_id: str, job_id: uuid.UUID, status: str, results: list[MemoryResult], error: str | None
) -> Job:
    row = conn.execute(
        sql.SQL(
            "UPDATE {} SET status = %s, results = %s, error = %s, finished_at = now(), messages = '[]'::jsonb"
            " WHERE id = %s RETURNING {}"
        ).format(table(tenant_id, "memory_jobs"), _JOB_COLUMNS),
        (status, Jsonb([r.model_dump(mode="json") for r in results]), error, job_id),
    ).fetchone()
    assert row is not None
    return _job(row)
