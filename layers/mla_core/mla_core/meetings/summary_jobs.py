"""A meeting's summary in the background: queued when the meeting ends (or asked for again), run by the
meetings function from SQS (`MeetingSummaryQueue`), never inside an HTTP request.

The job reads the stored transcript (the queue holds only the meeting's id), asks the model once per part
and once more to merge the parts' minutes (`mla_core.meetings.summary`), outside any transaction, then
writes the minutes, the items and the cost in one. A model briefly unavailable leaves the summary pending
and raises, so SQS delivers the job again (5 times, then the dead-letter queue); a refusal or an answer
that cannot be used fails it with the reason, and asking again (`queue(..., again=True)`) retries it.
Items staff have reviewed are never replaced by a later summary.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Literal

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from mla_core.adapters import Services
from mla_core.agents.routing import load_agent_config
from mla_core.core.errors import NotFoundError, TransientError, VendorError
from mla_core.meetings import store, summary
from mla_core.meetings.models import Item, Meeting, Summary

logger = logging.getLogger(__name__)  # the entry point's logger configures it


class SummaryMessage(BaseModel):
    """What the queue holds: which meeting (never what was said)."""

    version: Literal[1] = 1
    tenant_id: str
    meeting_id: uuid.UUID


def actor(meeting_id: uuid.UUID) -> str:
    return f"job:{meeting_id}"


def queue(services: Services, tenant_id: str, meeting_id: uuid.UUID, *, again: bool = False) -> bool:
    """Queue the meeting's summary unless one is pending or done (`again`: a done one is redone); True
    when a job was queued. The queue refusing refuses the caller (nothing is kept)."""
    with services.db.transaction() as conn:
        if not store.claim_summary(conn, tenant_id, meeting_id, again=again):
            return False
        message = SummaryMessage(tenant_id=tenant_id, meeting_id=meeting_id)
        services.summary_queue.send(
            message.model_dump_json(),
            key=f"summary:{tenant_id}:{meeting_id}",
            delay_s=services.settings.meeting_summary_delay_s,
        )
    logger.info("meeting summary queued", extra={"tenant_id": tenant_id, "meeting_id": str(meeting_id)})
    return True


def run(services: Services, message: SummaryMessage) -> None:
    tenant_id, meeting_id = message.tenant_id, message.meeting_id
    with services.db.transaction() as conn:
        row = store.summary_row(conn, tenant_id, meeting_id)
        meeting = store.find(conn, tenant_id, meeting_id)
        if row is None or meeting is None or row["status"] != "pending":
            logger.info("meeting summary skipped", extra={"tenant_id": tenant_id, "meeting_id": str(meeting_id)})
            return
        segments = store.segments(conn, tenant_id, meeting_id)
    config = load_agent_config(services, tenant_id)
    categories = [c.code for c in config.categories] if config else []
    try:
        outcome = summarise(services, meeting, segments, categories)
    except TransientError as exc:
        with services.db.transaction() as conn:
            store.count_attempt(conn, tenant_id, meeting_id, exc.message)
        raise
    except VendorError as exc:
        with services.db.transaction() as conn:
            store.finish_summary(conn, tenant_id, meeting_id, {"status": "failed", "error": exc.message})
        logger.warning("meeting summary failed", extra={"tenant_id": tenant_id, "error": exc.message})
        return
    with services.db.transaction() as conn:
        store.replace_proposed_items(conn, tenant_id, meeting_id, outcome.pop("items"), actor=actor(meeting_id))
        store.finish_summary(conn, tenant_id, meeting_id, {**outcome, "status": "succeeded", "error": None})
    logger.info(
        "meeting summary written",
        extra={
            "tenant_id": tenant_id,
            "meeting_id": str(meeting_id),
            **{k: v for k, v in outcome.items() if k != "minutes"},
        },
    )


def summarise(services: Services, meeting: Meeting, segments: list[Any], categories: list[str]) -> dict[str, Any]:
    """The summary's columns and its items: one call per part, one more to merge several parts."""
    s = services.settings
    languages = summary.minutes_languages(meeting)
    cut = summary.parts(segments, s.meeting_summary_part_tokens)
    prompt_tokens = completion_tokens = calls = dropped = 0
    model = s.meeting_summary_model
    minutes: list[dict[str, str]] = []
    items: list[summary.ProposedItem] = []
    for index, lines in enumerate(cut, start=1):
        messages = summary.part_messages(meeting, lines, index=index, count=len(cut), categories=categories)
        answer = services.openai.chat_json(messages, model=model)
        calls, prompt_tokens, completion_tokens = (
            calls + 1,
            prompt_tokens + answer.prompt_tokens,
            completion_tokens + answer.completion_tokens,
        )
        reading = summary.read_part(answer.content, lines, languages=languages, categories=categories)
        minutes.append(reading.minutes)
        items.extend(reading.items)
        dropped += reading.dropped
    merged = minutes[0] if len(minutes) == 1 else {code: "" for code in languages}
    if len(minutes) > 1:
        answer = services.openai.chat_json(summary.merge_messages(meeting, minutes), model=model)
        calls, prompt_tokens, completion_tokens = (
            calls + 1,
            prompt_tokens + answer.prompt_tokens,
            completion_tokens + answer.completion_tokens,
        )
        merged = summary.read_minutes(answer.content, languages)
    if dropped:
        logger.info("meeting summary items dropped", extra={"meeting_id": str(meeting.id), "dropped": dropped})
    return {
        "minutes": Jsonb(merged),
        "model": model,
        "parts": len(cut),
        "llm_calls": calls,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost_usd": summary.cost_usd(prompt_tokens, completion_tokens),
        "items": [_columns(item) for item in items],
    }


def _columns(item: summary.ProposedItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "text": item.text,
        "segment_ids": item.segment_ids,
        "speaker_identity": item.speaker_identity,
        "speaker_name": item.speaker_name,
        "place": item.place,
        "category": item.category,
        "suggested_owner": item.suggested_owner,
        "due_date": item.due_date,
        "phone": item.phone,
    }


def get(services: Services, tenant_id: str, meeting_id: uuid.UUID) -> Summary:
    """The stored summary and its items; 404 when the meeting has none (yet)."""
    with services.db.transaction() as conn:
        row = store.summary_row(conn, tenant_id, meeting_id)
        listed = store.items(conn, tenant_id, meeting_id) if row else []
    if row is None:
        raise NotFoundError(
            "this meeting has no summary: it is written after the meeting ends",
            details=[{"field": "meeting_id", "reason": "no_summary"}],
        )
    found = [Item.model_validate(r) for r in listed]
    return Summary(
        **{k: row[k] for k in ("meeting_id", "status", "minutes", "model", "parts", "llm_calls", "prompt_tokens",
                               "completion_tokens", "error", "created_at", "finished_at")},
        cost_usd=float(row["cost_usd"]),
        decisions=[i for i in found if i.kind == "decision"],
        actions=[i for i in found if i.kind == "action"],
        grievances=[i for i in found if i.kind == "grievance"],
    )  # fmt: skip
