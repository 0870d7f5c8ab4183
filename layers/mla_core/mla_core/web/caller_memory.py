"""The caller's page (`/app/complaints/{reference}/caller`): what the office remembers about a
complaint's caller (a profile per person on the phone, then the facts), each item with its history and
who made each change; and staff's corrections and deletions of an item.

The caller is the complaint's own caller number, so a number never travels in a URL (access logs
record paths and queries). An item is read and changed only through a complaint of its caller: a
memory of another caller, or of another office, is not found. Every call is one of the features'
functions (`casework`, `memories`, `team`); this module only puts what they answer together.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel

from mla_core.adapters import Services
from mla_core.complaints import casework
from mla_core.core.errors import ConflictError, NotFoundError
from mla_core.core.principal import OfficeUser
from mla_core.identity import team
from mla_core.memory import memories
from mla_core.memory.models import (
    LIST_LIMIT,
    SLOTS,
    HistoryEntry,
    Memory,
    MemoryList,
    MemoryResult,
    MemoryText,
    MemoryUpdate,
)

ActorKind = Literal["user", "former_member", "agent", "job", "system"]


class Actor(BaseModel):
    """Who made a change, as the page names them: an office user by name (`former_member` when the
    office no longer knows them), the voice agent, an extraction after a call, or the system."""

    kind: ActorKind
    name: str | None = None


class Change(BaseModel):
    """One line of an item's history, with who made it and whether it was on this complaint's call."""

    entry: HistoryEntry
    by: Actor
    on_this_call: bool


class Item(BaseModel):
    """One remembered thing with its history, oldest change first."""

    memory: Memory
    changes: list[Change]

    @property
    def last(self) -> Change | None:
        return self.changes[-1] if self.changes else None


class Person(BaseModel):
    """The profile of one person on the phone (`person` "" for the phone's one caller), slot by slot."""

    person: str
    items: list[Item]


class Gone(BaseModel):
    """An item just deleted: its last text and its history, the deletion last."""

    text: str
    changes: list[Change]


class CallerPage(BaseModel):
    """What the caller's page shows: `phone` None when the complaint has no caller number."""

    reference: int
    phone: str | None
    people: list[Person] = []
    facts: list[Item] = []
    more: bool = False  # the caller has more memories than the page lists (the newest `LIST_LIMIT` are)
    deleted: Gone | None = None  # the item just deleted, with its history


class Correction(BaseModel):
    """The correction form: the new text, and the text the form was shown with (`was`), so a form
    sent again changes nothing more and one that someone else overtook is refused."""

    text: MemoryText
    was: str | None = None


def _actor(actor: str, names: dict[str, str]) -> Actor:
    kind, _, ident = actor.partition(":")
    if kind == "user":
        name = names.get(ident)
        return Actor(kind="user", name=name) if name else Actor(kind="former_member")
    if kind == "agent":
        return Actor(kind="agent")
    if kind == "job":
        return Actor(kind="job")
    return Actor(kind="system")


class _Caller(BaseModel):
    reference: int
    phone: str | None
    call_id: str | None  # the stored room name of the call the complaint was taken on


def _caller(services: Services, tenant_id: str, reference: str) -> _Caller:
    complaint = casework.get_complaint(services, tenant_id, reference)
    call = complaint.get("call")
    return _Caller(
        reference=complaint["reference"], phone=complaint["caller_number"], call_id=call["room_name"] if call else None
    )


def _item(memory: Memory, history: list[HistoryEntry], caller: _Caller, names: dict[str, str]) -> Item:
    return Item(memory=memory, changes=_changes(history, caller, names))


def _changes(history: list[HistoryEntry], caller: _Caller, names: dict[str, str]) -> list[Change]:
    return [
        Change(entry=e, by=_actor(e.actor, names), on_this_call=bool(e.call_id) and e.call_id == caller.call_id)
        for e in history
    ]


def _names(services: Services, who: OfficeUser) -> dict[str, str]:
    """The office's people (disabled ones too) by user id: their name, or their email."""
    return {m["id"]: m["full_name"] or m["email"] for m in team.members(services, who)}


def caller_page(services: Services, who: OfficeUser, reference: str, *, deleted: uuid.UUID | None = None) -> CallerPage:
    """The page of the complaint `reference`'s caller (another office's complaint is not found):
    each person's profile in slot order, then the facts newest first; `deleted` an item this caller's
    page just deleted, shown with its history."""
    caller = _caller(services, who.tenant_id, reference)
    if caller.phone is None:
        return CallerPage(reference=caller.reference, phone=None)
    listed = memories.list_memories(
        services, who.tenant_id, MemoryList(filters={"user_id": caller.phone}, limit=LIST_LIMIT)
    )
    names = _names(services, who)
    histories = memories.histories(services, who.tenant_id, [memory.id for memory in listed.items])
    items = [_item(memory, histories.get(memory.id, []), caller, names) for memory in listed.items]
    profiles: dict[str, list[Item]] = {}
    for item in items:
        if item.memory.slot is not None:
            profiles.setdefault(item.memory.person, []).append(item)
    people = [
        Person(person=person, items=sorted(profiles[person], key=lambda i: SLOTS.index(i.memory.slot or "name")))
        for person in sorted(profiles)  # "" (the phone's one caller) first, then the others by name
    ]
    return CallerPage(
        reference=caller.reference,
        phone=caller.phone,
        people=people,
        facts=[item for item in items if item.memory.slot is None],
        more=listed.next_cursor is not None,
        deleted=_deleted(services, who, deleted, caller, names) if deleted else None,
    )


def _deleted(
    services: Services, who: OfficeUser, memory_id: uuid.UUID, caller: _Caller, names: dict[str, str]
) -> Gone | None:
    """A deleted item of the office with its history (None for one that is not deleted, or not the office's)."""
    try:
        history = memories.history(services, who.tenant_id, memory_id)
    except NotFoundError:
        return None
    if not history or history[-1].event != "DELETE":
        return None
    return Gone(text=history[-1].old_memory or "", changes=_changes(history, caller, names))


def item(services: Services, who: OfficeUser, reference: str, memory_id: uuid.UUID) -> tuple[int, Item]:
    """One item of the complaint's caller (not found when it is not theirs), with its history, for
    the question asked before deleting it; and the complaint's reference."""
    caller = _caller(services, who.tenant_id, reference)
    memory = _callers(services, who, caller, memory_id)
    history = memories.history(services, who.tenant_id, memory.id)
    return caller.reference, _item(memory, history, caller, _names(services, who))


def _callers(services: Services, who: OfficeUser, caller: _Caller, memory_id: uuid.UUID) -> Memory:
    memory = memories.get(services, who.tenant_id, memory_id)
    if caller.phone is None or memory.user_id != caller.phone:
        raise NotFoundError("memory not found")
    return memory


def correct(
    services: Services, who: OfficeUser, reference: str, memory_id: uuid.UUID, correction: Correction
) -> MemoryResult | None:
    """The item's text corrected by `who` (on its history); None when there was nothing to change (the
    text is what it is already: the same form sent twice). A form shown before someone else changed
    the item is refused (`stale`), so nobody overwrites a change they did not see."""
    caller = _caller(services, who.tenant_id, reference)
    current = _callers(services, who, caller, memory_id)
    if correction.text == current.memory:
        return None
    if correction.was is not None and correction.was != current.memory:
        raise ConflictError("someone else changed this memory first", details=[{"field": "text", "reason": "stale"}])
    return memories.update(services, who, memory_id, MemoryUpdate(text=correction.text))


def forget(services: Services, who: OfficeUser, reference: str, memory_id: uuid.UUID) -> None:
    """The item deleted by `who` (on its history); one already deleted stays so (the confirmation
    sent twice), and one that is not the office's is not found."""
    caller = _caller(services, who.tenant_id, reference)
    try:
        _callers(services, who, caller, memory_id)
    except NotFoundError:
        history = memories.history(services, who.tenant_id, memory_id)  # not found: not the office's
        if history and history[-1].event == "DELETE":
            return
        raise
    memories.delete(services, who, memory_id)
