"""Caller memory's shapes, as close to Mem0's as our envelope allows: a memory (`id`, `memory`,
`user_id`, `agent_id`, `run_id`, `metadata`, `hash`, `created_at`, `updated_at`), an operation's
`{"results": [{"id", "memory", "event"}]}`, a history entry, a background job (Mem0's event).

`user_id` is the caller's phone number (typed as people write it, kept as E.164); `person` names one
of the people who call from a shared phone ("" when only one is known). Profile slots hold one
current value each per phone and person.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mla_core.core.fields import PhoneNumber

Slot = Literal["name", "ward", "booth", "language", "accessibility"]
SLOTS: tuple[Slot, ...] = get_args(Slot)
Kind = Literal["fact", "profile"]
Event = Literal["ADD", "UPDATE", "DELETE", "NONE"]
Stored = Literal["ADD", "UPDATE", "DELETE"]

MEMORY_LIMIT = 500  # characters of one memory: a fact, not a transcript
PERSON_LIMIT = 80
MESSAGES_LIMIT = 200  # messages of one add with inference (a long call's turns)
METADATA_LIMIT = 4_000  # characters of a memory's metadata, as JSON
LIST_LIMIT = 100

MemoryText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MEMORY_LIMIT)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, max_length=PERSON_LIMIT)]
Ident = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _small_metadata(value: dict[str, Any]) -> dict[str, Any]:
    import json

    if len(json.dumps(value, ensure_ascii=False)) > METADATA_LIMIT:
        raise ValueError(f"must be at most {METADATA_LIMIT} characters as JSON")
    return value


class Memory(BaseModel):
    """One thing the office remembers about a caller (Mem0's memory item, with our slot and links)."""

    id: uuid.UUID
    memory: str
    user_id: str  # the caller's phone, E.164
    person: str
    kind: Kind
    slot: Slot | None
    agent_id: str | None
    run_id: str | None  # the call it came from (its stored room name), if any
    complaint_ids: list[uuid.UUID]
    metadata: dict[str, Any]
    hash: str
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    score: float | None = None  # a search's similarity (1 - cosine distance)


class MemoryResult(BaseModel):
    """What one operation did to one memory (Mem0's `results` item)."""

    id: uuid.UUID | None
    memory: str
    event: Event
    slot: Slot | None = None
    previous_memory: str | None = None  # an UPDATE's old text


class Results(BaseModel):
    results: list[MemoryResult]


class SearchResults(BaseModel):
    """A search's memories, best first, each with its `score` (Mem0's `{"results": [...]}`)."""

    results: list[Memory]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: Annotated[str, StringConstraints(max_length=4_000)]


class MemoryAdd(BaseModel):
    """Mem0's `add`: `messages` (or one `text`) about `user_id`. `infer: false` stores the text as given
    (one memory; a `slot` makes it that profile value, superseding the old one); `infer: true` (Mem0's
    default) queues an extraction from the messages and answers its `event_id`."""

    model_config = ConfigDict(extra="forbid")

    user_id: PhoneNumber
    person: Person = ""
    messages: Annotated[list[Message], Field(max_length=MESSAGES_LIMIT)] | None = None
    text: MemoryText | None = None
    infer: bool = True
    slot: Slot | None = None
    agent_id: Ident | None = None
    run_id: Ident | None = None
    metadata: Annotated[dict[str, Any], Field(default_factory=dict)]
    complaint_ids: Annotated[list[uuid.UUID], Field(max_length=20)] = []
    expiration_date: datetime | None = None

    @model_validator(mode="after")
    def _one_source(self) -> MemoryAdd:
        if (self.messages is None) == (self.text is None):
            raise ValueError("give either messages or text")
        if self.messages is not None and not self.infer and len(self.messages) != 1:
            raise ValueError("without inference, give one memory: text, or a single message")
        if self.infer and (self.slot or self.complaint_ids):
            raise ValueError("slot and complaint_ids are for a memory stored as given (infer: false)")
        _small_metadata(self.metadata)
        return self

    def stored_text(self) -> str:
        """The memory `infer: false` stores."""
        text = self.text if self.text is not None else (self.messages or [Message(role="user", content="")])[0].content
        return text.strip()


class MemoryUpdate(BaseModel):
    """Mem0's `update`: new text, metadata or expiry (at least one)."""

    model_config = ConfigDict(extra="forbid")

    text: MemoryText | None = None
    metadata: dict[str, Any] | None = None
    expiration_date: datetime | None = None

    @model_validator(mode="after")
    def _something(self) -> MemoryUpdate:
        if self.text is None and self.metadata is None and "expiration_date" not in self.model_fields_set:
            raise ValueError("give text, metadata or expiration_date")
        if self.metadata is not None:
            _small_metadata(self.metadata)
        return self


Filters = dict[str, Any]


class MemoryList(BaseModel):
    """Mem0's `get_all`: memories matching `filters`, newest first, a page at a time."""

    model_config = ConfigDict(extra="forbid")

    filters: Filters = {}
    limit: Annotated[int, Field(ge=1, le=LIST_LIMIT)] = 50
    cursor: Annotated[str, StringConstraints(max_length=400)] | None = None


class MemoryPage(BaseModel):
    """One page of memories: `next_cursor` fetches the next; None on the last."""

    items: list[Memory]
    next_cursor: str | None


class MemorySearch(BaseModel):
    """Mem0's `search`: the memories nearest to `query` among those matching `filters`, which must name
    a caller, an agent or a call (`user_id`, `agent_id` or `run_id`), as Mem0's do."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MEMORY_LIMIT)]
    filters: Filters
    top_k: Annotated[int, Field(ge=1, le=50)] = 10
    threshold: Annotated[float, Field(ge=0, le=1)] | None = None


class CallerRef(BaseModel):
    """A caller named in the body (access logs record the query string): a phone, optionally a person."""

    model_config = ConfigDict(extra="forbid")

    user_id: PhoneNumber
    person: Person | None = None


class HistoryEntry(BaseModel):
    id: int
    memory_id: uuid.UUID
    event: Stored
    old_memory: str | None
    new_memory: str | None
    actor: str
    call_id: str | None
    created_at: datetime


class Deleted(BaseModel):
    message: str
    deleted: int


class Job(BaseModel):
    """An extraction in the background (Mem0's event): `PENDING`, then `SUCCEEDED` with its results or
    `FAILED` with why."""

    event_id: uuid.UUID
    status: Literal["PENDING", "SUCCEEDED", "FAILED"]
    user_id: str
    run_id: str | None
    results: list[MemoryResult]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class CallerMemory(BaseModel):
    """What the voice agent knows of a caller when it answers: profile slots per person, the newest facts."""

    profiles: dict[str, dict[Slot, str]] = {}  # person ("" for the phone's one caller) → slot → value
    facts: list[str] = []
    complaint_ids: list[uuid.UUID] = []

    @property
    def empty(self) -> bool:
        return not self.profiles and not self.facts

    def slot(self, slot: Slot) -> str | None:
        """The slot's value when only one person on the phone has it (a shared phone's differ)."""
        values = {profile[slot] for profile in self.profiles.values() if slot in profile}
        return values.pop() if len(values) == 1 else None


class ErasureRequest(BaseModel):
    """A caller's "forget me", said on a call: their memories went at once; the rest of their data (complaints,
    calls) is the office's to erase (`mla_core.privacy`), which marks the request handled."""

    id: uuid.UUID
    caller_phone: str  # the number the call came from (E.164), never a callback number
    call_id: str | None  # the call's stored room name
    created_at: datetime
    handled_at: datetime | None


class ErasureRequestList(BaseModel):
    """The office's erasure requests still to act on, newest first: the newest `LIST_LIMIT` (100), with
    `more` when older ones wait too (erasing or dismissing these shows them)."""

    items: list[ErasureRequest]
    more: bool
