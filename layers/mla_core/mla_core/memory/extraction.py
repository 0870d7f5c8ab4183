"""From a conversation to memory decisions, as Mem0's first pipeline did (its 2.x one only adds): one
model call sees what is remembered of the caller and what was said, and answers ADD, UPDATE, DELETE or
NONE for each fact and profile slot. The answer is held to a schema and to the caller's own memories
(an id that is not theirs is ignored and reported), then applied by `jobs`.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mla_core.memory.models import MEMORY_LIMIT, SLOTS, Event, Memory, Slot

MAX_DECISIONS = 20
TRANSCRIPT_LIMIT = 24_000  # characters of conversation the model is shown (a long call's newest part)

SYSTEM_PROMPT = f"""You keep the memory an Indian MLA's office has of a constituent who calls it, so the office's
voice agent need not ask them again for what they already said. You are given the memories kept now (each
with its id, and its slot if it is a profile value) and a new conversation between the caller and the
agent. Decide what to remember.

Profile slots, one current value each: {", ".join(SLOTS)} (name: what they are called; ward: their ward or
village; booth: their polling booth; language: ta, hi or en; accessibility: what helps them on a call, such
as "hard of hearing, speak slowly"). Facts: anything else the caller said about themselves that will help the
office serve them on a later call (their household, their occupation, a lasting problem). Do not keep the
complaint itself (the office tracks complaints), opinions about people, caste, religion, health conditions
beyond accessibility needs, or anything said about someone else.

For each memory answer one decision:
- ADD: new (for a slot with no value, or a new fact);
- UPDATE: a kept memory changed (give its id and the new text; a new ward for a caller who moved);
- DELETE: a kept memory the caller said is wrong or asked to be forgotten (give its id);
- NONE: a kept memory confirmed or unchanged (give its id).
Write each memory as a short English phrase (a name in the script the caller would write it). Answer only
JSON: {{"memory": [{{"event": "ADD|UPDATE|DELETE|NONE", "id": "<kept id, for UPDATE, DELETE, NONE>",
"slot": "<slot, or null for a fact>", "text": "<the memory>", "person": "<whose, when a shared phone's
callers differ, else empty>"}}]}}"""


class Decision(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event: Event
    id: uuid.UUID | None = None
    slot: Slot | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MEMORY_LIMIT)] = ""
    person: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] = ""


class Decisions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    memory: Annotated[list[Decision], Field(max_length=MAX_DECISIONS)] = []


def prompt(kept: list[Memory], conversation: list[dict[str, str]]) -> list[dict[str, str]]:
    """The model's messages: the system prompt, then what is kept and what was said, as data."""
    memories = [
        {"id": str(m.id), "slot": m.slot, "text": m.memory, **({"person": m.person} if m.person else {})} for m in kept
    ]
    lines = [f"{turn['role']}: {turn['content']}" for turn in conversation if turn.get("content")]
    said = "\n".join(lines)[-TRANSCRIPT_LIMIT:]
    user = f"KEPT MEMORIES:\n{json.dumps(memories, ensure_ascii=False)}\n\nCONVERSATION:\n{said}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def parse(answer: dict[str, Any], kept: list[Memory]) -> tuple[list[Decision], list[str]]:
    """The answer's decisions that can be applied, and why the others cannot (never an exception: a
    model's odd answer costs its decisions, not the job)."""
    try:
        decisions = Decisions.model_validate(answer).memory
    except ValidationError as exc:
        return [], [f"the model's answer does not fit the schema ({exc.error_count()} errors)"]
    theirs = {m.id for m in kept}
    usable, refused = [], []
    for decision in decisions:
        if decision.event in ("UPDATE", "DELETE", "NONE") and decision.id not in theirs:
            if decision.event == "UPDATE" and decision.slot and decision.text:
                decision.event, decision.id = "ADD", None  # a slot's new value: the store supersedes the old one
            else:
                refused.append(f"{decision.event} of a memory that is not this caller's")
                continue
        if decision.event in ("ADD", "UPDATE") and not decision.text:
            refused.append(f"{decision.event} without text")
            continue
        usable.append(decision)
    return usable, refused
