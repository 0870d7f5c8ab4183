"""Call records while Postgres is really stopped: queued on the complaint queue, stored once the local
stack's poller delivers them to the complaint-ingest function after Postgres is back."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_support import CallFactory, agent_lines, complaints_of, rows, say_reference, tenant_table
from psycopg import sql

from agent_pool import phrases
from agent_pool.testing import CallTool, Say
from local_stack.aws import LambdaContext
from local_stack.template import function
from mla_core.adapters import Services
from mla_core.calls.records import CallRecord, ingest_queued_call_record, queue_body
from mla_core.core.names import stored_room_name
from support import queue_drained, unique_number

TAMIL_WATER = {
    "category": "water",
    "description": "மூன்று நாட்களாக குடிநீர் வரவில்லை",
    "location": "நேரு தெரு, வார்டு 12",
}


def call_records(stack: Any, tenant: dict[str, Any], room_name: str) -> list[dict[str, Any]]:
    query = sql.SQL("SELECT * FROM {} WHERE room_name = %s").format(tenant_table(tenant, "calls"))
    return rows(stack, query, room_name)


def ingest(*bodies: str) -> dict[str, Any]:
    """The complaint-ingest function given one batch, as Lambda's SQS event source would."""
    handler = function("ComplaintIngestFunction").load()
    records = [{"messageId": f"m{n}", "receiptHandle": f"h{n}", "body": body} for n, body in enumerate(bodies)]
    context = LambdaContext("complaint-ingest", "arn:local:complaint-ingest", 512, "test", deadline=time.time() + 60)
    response: dict[str, Any] = handler({"Records": records}, context)
    return response


def stored_eventually(stack: Any, tenant: dict[str, Any], room: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The room's call records once there are any, and the queue is drained (so none is still to come)."""
    deadline = time.monotonic() + timeout
    while not call_records(stack, tenant, room):
        assert time.monotonic() < deadline, f"no call record for {room} within {timeout} s"
        time.sleep(0.2)
    queue_drained(stack, "COMPLAINT_QUEUE_URL")
    return call_records(stack, tenant, room)


async def test_a_call_during_a_postgres_outage_leaves_one_full_call_record_once_postgres_is_back(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any, postgres_down: None
) -> None:
    steps = [
        CallTool("log_complaint", TAMIL_WATER),
        say_reference("எண் {reference}."),
        CallTool("end_call"),
        Say("நன்றி, வணக்கம்!"),
    ]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        await run.session.run(user_input="ஆமாம் பதிவு செய்யுங்கள்")
        await run.session.run(user_input="நன்றி, அவ்வளவுதான்")
        assert await run.wait_closed(timeout=5)
    assert run.outcome == "complaint_logged" and run.call is not None
    [logged] = run.call.logged
    assert logged.queued  # Postgres was down for the whole call

    stack.restart_postgres()
    queue_drained(stack, "COMPLAINT_QUEUE_URL")

    [record] = call_records(stack, tamil_tenant, run.request.room_name)
    assert (record["status"], record["outcome"], record["language"]) == ("completed", "complaint_logged", "ta")
    assert record["caller_number"] == caller and record["dialed_number"] == tamil_tenant["phone_numbers"][0]
    assert record["started_at"] <= record["notice_played_at"] <= record["ended_at"]  # the DPDP notice played
    assert record["duration_seconds"] == int((record["ended_at"] - record["started_at"]).total_seconds())
    kinds = [(entry["type"], entry.get("role") or entry.get("name")) for entry in record["transcript"]]
    assert kinds[:4] == [
        ("message", "agent"),  # the greeting to its recording notice, then its closing question
        ("message", "agent"),
        ("message", "caller"),
        ("tool_call", "log_complaint"),
    ]
    assert ("tool_call", "end_call") in kinds and record["latency"]["setup_ms"] > 0
    [complaint] = complaints_of(stack, tamil_tenant, caller)
    assert complaint["reference"] == logged.reference and complaint["call_id"] == record["id"]


async def test_the_same_call_record_delivered_twice_is_stored_once(
    tamil_tenant: dict[str, Any], stack: Any, services: Services, postgres_down: None
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=2)
    record = CallRecord(
        tenant_id=tamil_tenant["tenant_id"],
        room_name=stored_room_name(f"mla-{tamil_tenant['tenant_id']}-call_twice_{unique_number()[3:]}"),
        caller_number=unique_number(),
        dialed_number=tamil_tenant["phone_numbers"][0],
        language="ta",
        outcome="no_complaint",
        started_at=started,
        ended_at=started + timedelta(seconds=75),
        transcript=[{"type": "message", "role": "agent", "text": "வணக்கம்", "at": started.isoformat()}],
        notice_played_at=started + timedelta(seconds=4),
    )
    body = queue_body(record)
    services.queue.send(body, key=f"call:{record.room_name}")
    services.queue.send(body, key=f"call:{record.room_name}")  # SQS delivers at least once

    stack.restart_postgres()
    queue_drained(stack, "COMPLAINT_QUEUE_URL")

    [stored] = call_records(stack, tamil_tenant, record.room_name)
    assert ingest(body, body) == {"batchItemFailures": []}  # again, twice in one batch
    [again] = call_records(stack, tamil_tenant, record.room_name)
    assert {**again, "updated_at": None} == {**stored, "updated_at": None}  # the same row, unchanged
    assert (stored["duration_seconds"], stored["notice_played_at"]) == (75, record.notice_played_at)
    assert stored["transcript"] == record.transcript and stored["outcome"] == "no_complaint"


async def test_a_call_refused_because_the_store_was_down_leaves_a_record_once_it_is_back(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any, postgres_down: None
) -> None:
    # The job names the tenant, but Redis does not know the dialed number: only Postgres could say
    # which agent answers it, and Postgres is down.
    dialed = unique_number()
    metadata = json.dumps({"tenant_id": tamil_tenant["tenant_id"]})
    async with phone_call(tamil_tenant, caller, [], dialed_number=dialed, job_metadata=metadata) as (run, _llm):
        assert run.rejected and agent_lines(run) == [phrases.TEMPORARY_FAILURE]

    stack.restart_postgres()
    # The refused call's record is queued as the call ends, so the queue can look empty before it is
    # sent: wait for the record itself, not for the queue.
    [record] = stored_eventually(stack, tamil_tenant, run.request.room_name)
    assert (record["status"], record["outcome"]) == ("failed", "store_unavailable")
    assert (record["caller_number"], record["dialed_number"]) == (caller, dialed)
    assert record["notice_played_at"] is None  # the recording notice was never played
    assert [entry["text"] for entry in record["transcript"]] == [phrases.TEMPORARY_FAILURE]


def test_a_queued_record_without_its_tenant_finds_it_by_the_dialed_number(
    tamil_tenant: dict[str, Any], stack: Any, services: Services
) -> None:
    room = f"mla-unknown-call_{unique_number()[3:]}"
    record = CallRecord(
        tenant_id=None,
        room_name=room,
        dialed_number=tamil_tenant["phone_numbers"][0],
        outcome="store_unavailable",
        status="failed",
    )
    nobodys = record.model_copy(update={"room_name": f"{room}-nobody", "dialed_number": unique_number()})

    assert ingest_queued_call_record(services, record) is True
    assert ingest_queued_call_record(services, nobodys) is False  # logged as a rejected call, not retried

    [stored] = call_records(stack, tamil_tenant, room)
    assert stored["outcome"] == "store_unavailable" and call_records(stack, tamil_tenant, f"{room}-nobody") == []
