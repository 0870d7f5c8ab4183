"""Caller memory for the office and the agent: Mem0's operations (`add`, `get_all`, `get`, `search`,
`update`, `delete`, `delete_all`, `history`) over an office's own schema.

Embeddings are asked for before a transaction opens (a network call never holds a connection), and an
embedding service that fails changes nothing: the request is refused as unavailable (503) and may be
retried. Every change names its actor on the memory's history: `user:<id>` for an office user,
`agent:<id>` for the voice agent, `job:<id>` for an extraction.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import psycopg

from mla_core.adapters import Services
from mla_core.core import cursors
from mla_core.core.errors import ConflictError, InvalidInputError, NotFoundError
from mla_core.core.principal import OfficeUser
from mla_core.memory import filters, jobs, store
from mla_core.memory.models import (
    LIST_LIMIT,
    CallerMemory,
    Deleted,
    ErasureRequest,
    ErasureRequestList,
    HistoryEntry,
    Job,
    Memory,
    MemoryAdd,
    MemoryList,
    MemoryPage,
    MemoryResult,
    MemorySearch,
    MemoryUpdate,
    Results,
)
from mla_core.memory.store import NewMemory

logger = logging.getLogger(__name__)

_SORT = "memories.newest"


def actor(who: OfficeUser) -> str:
    return f"user:{who.user_id}"


def _missing() -> NotFoundError:
    return NotFoundError("memory not found")


def add(services: Services, who: OfficeUser, body: MemoryAdd) -> Results | Job:
    """Mem0's add: stored as given (`infer: false`), or an extraction queued (`infer: true`)."""
    if body.infer:
        assert body.messages is not None or body.text is not None
        messages = (
            [m.model_dump() for m in body.messages] if body.messages else [{"role": "user", "content": body.text}]
        )
        return jobs.queue_messages(
            services, who.tenant_id, phone=body.user_id, person=body.person, messages=messages, actor=actor(who)
        )
    text = body.stored_text()
    if not text:
        raise InvalidInputError("the memory is empty", details=[{"field": "text", "reason": "empty"}])
    [embedding] = services.openai.embed([text])
    new = NewMemory(
        phone=body.user_id, text=text, actor=actor(who), person=body.person, slot=body.slot, agent_id=body.agent_id,
        run_id=body.run_id, metadata=body.metadata, complaint_ids=body.complaint_ids,
        expires_at=body.expiration_date, embedding=embedding,
    )  # fmt: skip
    with services.db.transaction() as conn:
        return Results(results=[store.add(conn, who.tenant_id, new)])


def list_memories(services: Services, tenant_id: str, body: MemoryList) -> MemoryPage:
    """Mem0's get_all: newest first, `limit` at a time (`next_cursor` for the next page)."""
    condition = filters.where(body.filters)
    after = cursors.decode(body.cursor, _SORT, datetime.fromisoformat, uuid.UUID) if body.cursor else None
    with services.db.transaction() as conn:
        rows = store.listed(conn, tenant_id, condition, limit=body.limit + 1, after=after)
    items, next_cursor = cursors.paginate(rows, body.limit, lambda m: cursors.encode(_SORT, m.updated_at, m.id))
    return MemoryPage(items=items, next_cursor=next_cursor)


def get(services: Services, tenant_id: str, memory_id: uuid.UUID) -> Memory:
    with services.db.transaction() as conn:
        memory = store.find(conn, tenant_id, memory_id)
    if memory is None:
        raise _missing()
    return memory


def search(services: Services, tenant_id: str, body: MemorySearch) -> list[Memory]:
    """Mem0's search: nearest first, each with its `score`."""
    if not filters.names_an_entity(body.filters):
        raise InvalidInputError(
            "filters must name a caller (user_id), an agent (agent_id) or a call (run_id)",
            details=[{"field": "filters", "reason": "entity_required"}],
        )
    condition = filters.where(body.filters)
    [embedding] = services.openai.embed([body.query])
    with services.db.transaction() as conn:
        return store.nearest(conn, tenant_id, embedding, condition, top_k=body.top_k, threshold=body.threshold)


def update(services: Services, who: OfficeUser, memory_id: uuid.UUID, body: MemoryUpdate) -> MemoryResult:
    embedding = services.openai.embed([body.text])[0] if body.text is not None else None
    try:
        with services.db.transaction() as conn:
            memory = store.find(conn, who.tenant_id, memory_id, lock=True)
            if memory is None:
                raise _missing()
            return store.change(
                conn, who.tenant_id, memory, actor=actor(who), text=body.text, metadata=body.metadata,
                expires_at=body.expiration_date, set_expiry="expiration_date" in body.model_fields_set,
                embedding=embedding,
            )  # fmt: skip
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError(
            "the caller already has a memory with this text", details=[{"field": "text", "reason": "duplicate"}]
        ) from exc


def delete(services: Services, who: OfficeUser, memory_id: uuid.UUID) -> MemoryResult:
    with services.db.transaction() as conn:
        memory = store.find(conn, who.tenant_id, memory_id, lock=True)
        if memory is None:
            raise _missing()
        return store.delete(conn, who.tenant_id, memory, actor=actor(who))


def delete_all(services: Services, who: OfficeUser, phone: str, person: str | None) -> Deleted:
    """Mem0's delete_all for one caller (or one person on their phone): each deletion on its history."""
    with services.db.transaction() as conn:
        count = store.delete_callers(conn, who.tenant_id, phone, person, actor=actor(who))
    return Deleted(message="Memories deleted successfully!", deleted=count)


def history(services: Services, tenant_id: str, memory_id: uuid.UUID) -> list[HistoryEntry]:
    """Mem0's history: every ADD, UPDATE and DELETE of a memory, oldest first (a deleted one's too)."""
    with services.db.transaction() as conn:
        if not store.exists(conn, tenant_id, memory_id):
            raise _missing()
        return store.histories(conn, tenant_id, [memory_id]).get(memory_id, [])


def histories(services: Services, tenant_id: str, memory_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[HistoryEntry]]:
    """`history` of several memories (a caller's page), in one query; ids not the office's have none."""
    with services.db.transaction() as conn:
        return store.histories(conn, tenant_id, memory_ids)


def for_call(services: Services, tenant_id: str, phone: str) -> CallerMemory:
    """What the agent knows of a caller as it answers (one query, no embedding)."""
    with services.db.transaction() as conn:
        return store.for_call(conn, tenant_id, phone)


def forget_caller(services: Services, tenant_id: str, phone: str, *, agent_id: str, call_id: str) -> int:
    """A caller said "forget me": every memory of their phone deleted now, by the agent, on the call, and
    their erasure request recorded for the office, in one transaction. Asked again on the same call, it
    deletes nothing more and records nothing more. Returns how many memories were deleted."""
    with services.db.transaction() as conn:
        deleted = store.delete_callers(conn, tenant_id, phone, None, actor=f"agent:{agent_id}", call_id=call_id)
        store.record_erasure_request(conn, tenant_id, phone, call_id)
    return deleted


def record_erasure_request(services: Services, tenant_id: str, phone: str, *, call_id: str | None) -> ErasureRequest:
    """A constituent's request to erase their data, for the office to act on (one per call)."""
    with services.db.transaction() as conn:
        return store.record_erasure_request(conn, tenant_id, phone, call_id)


def erasure_requests(services: Services, tenant_id: str, *, limit: int = LIST_LIMIT) -> list[ErasureRequest]:
    """The office's erasure requests not handled yet, newest first, up to `limit` (its privacy page and API
    list them through `open_erasure_requests`, for its MLA admin)."""
    with services.db.transaction() as conn:
        return store.erasure_requests(conn, tenant_id, limit=limit)


def open_erasure_requests(services: Services, who: OfficeUser) -> ErasureRequestList:
    """For the office's MLA admin: the callers who asked on a call to be forgotten and wait for it, newest
    first (the newest `LIST_LIMIT`; `more` when older ones wait too)."""
    who.require_role("mla_admin")
    found = erasure_requests(services, who.tenant_id, limit=LIST_LIMIT + 1)
    return ErasureRequestList(items=found[:LIST_LIMIT], more=len(found) > LIST_LIMIT)


def mark_erasure_request_handled(services: Services, who: OfficeUser, request_id: uuid.UUID) -> ErasureRequest:
    """The office's MLA admin dismisses a request without erasing (the caller said, when the office called
    back, that they want to be remembered after all): it leaves the list, stays in the number's export, and
    goes with retention as a handled one. Dismissed again, it keeps its first time. Another office's id is
    NotFoundError, as an id of nothing is."""
    who.require_role("mla_admin")
    with services.db.transaction() as conn:
        handled = store.mark_erasure_request_handled(conn, who.tenant_id, request_id)
    if handled is None:
        raise NotFoundError("erasure request not found")
    logger.info(
        "erasure request dismissed",
        extra={"tenant_id": who.tenant_id, "request_id": str(request_id), "actor": actor(who)},
    )
    return handled
