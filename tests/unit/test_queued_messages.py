"""What waits in the complaint queue while Postgres is down: complaints (with or without a kind) and
call records, told apart without a database."""

from __future__ import annotations

import json
from pathlib import Path

from local_stack.template import function
from mla_core.calls.records import QUEUE_MESSAGE_LIMIT, CallRecord, queue_body
from mla_core.complaints.intake import QueuedComplaint

SAMPLE = Path(__file__).parents[2] / "sam" / "events" / "complaint_queued.json"


def parsed(body: str) -> QueuedComplaint | CallRecord:
    """A queue message as the complaint-ingest function reads it."""
    message: QueuedComplaint | CallRecord = (
        function("ComplaintIngestFunction").import_module().QueuedMessage.model_validate_json(body).root
    )
    return message


def test_a_complaint_queued_before_messages_had_a_kind_is_still_a_complaint() -> None:
    body = json.loads(SAMPLE.read_text(encoding="utf-8"))["Records"][0]["body"]
    assert "kind" not in json.loads(body)

    message = parsed(body)

    assert isinstance(message, QueuedComplaint) and (message.reference, message.schema_version) == (1001, 1)
    assert parsed(message.model_dump_json()) == message  # queued again, with its kind


def test_a_call_record_goes_through_the_queue_unchanged() -> None:
    record = CallRecord(
        tenant_id="abcde12345",
        room_name="mla-abcde12345-call_1",
        outcome="complaint_logged",
        transcript=[{"type": "message", "role": "agent", "text": "வணக்கம்"}],
    )

    assert parsed(queue_body(record)) == record


def test_a_transcript_too_long_for_one_message_keeps_its_start_and_its_end() -> None:
    entries = [{"type": "message", "role": "caller", "text": f"{n} " + "ந" * 2000} for n in range(400)]
    record = CallRecord(tenant_id="abcde12345", room_name="mla-abcde12345-call_2", transcript=entries)

    body = queue_body(record)

    assert len(body.encode()) <= QUEUE_MESSAGE_LIMIT
    kept = CallRecord.model_validate_json(body).transcript
    assert kept[0] == entries[0] and kept[-1] == entries[-1]
    assert kept[1] == {"type": "cut", "entries": len(entries) - len(kept) + 1}
