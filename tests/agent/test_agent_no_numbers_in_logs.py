"""No caller's number in the logs of a whole call: the agent's lines, livekit-agents' and the webhooks', with
LiveKit's own name for a SIP call's room (which holds the number); and the call stored under a room name
without it, the agent's record and the webhooks' still one row."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import secrets
import time
from typing import Any

from agent_support import CallFactory, last_reference, rows, say_reference, sms_to, tenant_table
from livekit.agents import llm
from psycopg import sql
from upstash_redis import Redis

from agent_pool.testing import CallTool, LlmStep, Say
from mla_core.core.fields import ascii_digits
from mla_core.core.names import stored_room_name
from mla_core.core.observability import function_logger
from mla_core.core.privacy import RedactNumbers, mentions_pattern
from support import Api
from webhook_support import LiveKitSender, whole_call

WATER = {"category": "water", "description": "மூன்று நாட்களாக குடிநீர் வரவில்லை", "location": "நேரு தெரு, வார்டு 12"}
# LiveKit's room suffix: 12 characters of its base-57 alphabet.
GUID = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def line(record: logging.LogRecord) -> str:
    """A record as a log line could show it: the message and every field (extras are in `__dict__`)."""
    return record.getMessage() + json.dumps(record.__dict__, default=str, ensure_ascii=False)


class Lines(logging.Filter):
    """Each record as it reached the handler, before any other filter changed it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.seen.append((record.name, line(record)))
        return True


def captured(caplog: Any) -> Lines:
    """Every record at DEBUG, ours and the libraries': as first seen (returned), and as written, through
    the filter the worker's root handlers and the functions' loggers have (`caplog.records`)."""
    caplog.set_level(logging.DEBUG)
    seen = Lines()
    caplog.handler.addFilter(seen)
    caplog.handler.addFilter(RedactNumbers())
    return seen


def status_check(chat_ctx: llm.ChatContext) -> LlmStep:
    """The caller asks after the complaint just logged: the LLM looks up the reference the tool returned."""
    return CallTool("check_complaint_status", {"reference": str(last_reference(chat_ctx))})


def lines_with(caller: str, seen: Lines, caplog: Any) -> list[str]:
    """The lines that show `caller`'s number in any form: ours even before the filter, any after it."""
    number = mentions_pattern(caller)
    ours = [text for name, text in seen.seen if name.startswith(("agent_pool", "mla_core"))]
    written = [line(record) for record in caplog.records]
    return [text for text in ours + written if re.search(number, ascii_digits(text))]


def sip_room(tenant_id: str, caller: str) -> str:
    """LiveKit's name for a SIP call's room: the rule's prefix, the caller's number, 12 random characters."""
    return f"mla-{tenant_id}-call_{caller}_{''.join(secrets.choice(GUID) for _ in range(12))}"


def stored_rows(stack: Any, tenant: dict[str, Any], table: str, room: str) -> list[dict[str, Any]]:
    """The rows of `table` for LiveKit's `room`, found by the name it is stored under."""
    query = sql.SQL("SELECT * FROM {} WHERE room_name = %s").format(tenant_table(tenant, table))
    return rows(stack, query, stored_room_name(room))


def created_by(stack: Any, tenant: dict[str, Any], complaint: dict[str, Any]) -> str:
    query = sql.SQL("SELECT actor_id FROM {} WHERE complaint_id = %s AND event_type = 'created'")
    [created] = rows(stack, query.format(tenant_table(tenant, "complaint_events")), complaint["id"])
    return str(created["actor_id"])


async def test_a_whole_simulated_call_logs_no_full_number(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, api: Api, stack: Any, caplog: Any
) -> None:
    tenant_id, dialed = tamil_tenant["tenant_id"], tamil_tenant["phone_numbers"][0]
    room = sip_room(tenant_id, caller)
    stored = stored_room_name(room)
    livekit = LiveKitSender(api.http, stack.env)
    started, joined, left, finished, egress = whole_call(room, caller, dialed)
    seen = captured(caplog)

    assert livekit.deliver([started, joined]) == ["applied"] * 2
    steps = [
        CallTool("log_complaint", WATER),
        say_reference("பதிவு செய்யப்பட்டது. எண் {reference}."),
        status_check,
        Say("உங்கள் புகார் புதியது."),
        CallTool("end_call"),
        Say("நன்றி, வணக்கம்!"),
    ]
    async with phone_call(tamil_tenant, caller, steps, room_name=room) as (run, script):
        await run.session.run(user_input="நேரு தெருவில் மூன்று நாளா தண்ணி வரல, பதிவு செய்யுங்கள்")
        await run.session.run(user_input="என் புகாரின் நிலை என்ன?")
        await run.session.run(user_input="நன்றி, அவ்வளவுதான்")
        assert await run.wait_closed(timeout=5)
    assert livekit.deliver([left, finished, egress]) == ["applied"] * 3
    assert script.remaining == 0 and run.outcome == "complaint_logged" and run.call is not None

    names = {name for name, _ in seen.seen}
    assert {"agent_pool.call", "mla_core.calls.webhook_events"} <= names and any(n.startswith("livekit") for n in names)
    assert lines_with(caller, seen, caplog) == []

    # Stored under the name without the number, and still one call: the agent's record and the webhooks'.
    [call] = stored_rows(stack, tamil_tenant, "calls", room)
    assert (call["outcome"], call["status"], call["end_reason"]) == (
        "complaint_logged",
        "completed",
        "client_initiated",
    )
    assert call["answered_at"] is not None and call["transcript"] and call["caller_number"] == caller
    [complaint] = stored_rows(stack, tamil_tenant, "complaints", room)
    assert complaint["call_id"] == call["id"] and complaint["idempotency_key"].startswith(f"{stored}:log_complaint:")
    assert created_by(stack, tamil_tenant, complaint) == stored
    events = [e.id for e in (started, joined, left, finished, egress)]
    recorded = rows(stack, sql.SQL("SELECT room_name FROM platform.webhook_events WHERE id = ANY(%s)"), events)
    assert [r["room_name"] for r in recorded] == [stored] * 5
    redis = Redis(stack.env["UPSTASH_REDIS_REST_URL"], stack.env["UPSTASH_REDIS_REST_TOKEN"])
    assert redis.exists(f"complaint:idem:{tenant_id}:{complaint['idempotency_key']}") == 1
    [sms] = sms_to(caller)
    assert str(complaint["reference"]) in sms["body"]


async def test_a_call_queued_while_postgres_is_down_logs_no_full_number_and_is_stored_without_it(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any, caplog: Any, postgres_down: None
) -> None:
    room = sip_room(tamil_tenant["tenant_id"], caller)
    seen = captured(caplog)
    steps = [CallTool("log_complaint", WATER), say_reference("எண் {reference}."), CallTool("end_call"), Say("நன்றி!")]
    async with phone_call(tamil_tenant, caller, steps, room_name=room) as (run, _llm):
        await run.session.run(user_input="பதிவு செய்யுங்கள்")
        await run.session.run(user_input="நன்றி, அவ்வளவுதான்")
        assert await run.wait_closed(timeout=5)
    assert run.call is not None and [c.queued for c in run.call.logged] == [True]

    stack.restart_postgres()  # the queue's poller stores the complaint and the call record
    deadline = time.monotonic() + 60
    while not (
        stored_rows(stack, tamil_tenant, "calls", room) and stored_rows(stack, tamil_tenant, "complaints", room)
    ):
        assert time.monotonic() < deadline, "the queued complaint and call record were not stored"
        await asyncio.sleep(0.2)

    names = {name for name, _ in seen.seen}
    assert {"agent_pool.call", "mla_core.complaints.intake"} <= names
    assert lines_with(caller, seen, caplog) == []
    [call] = stored_rows(stack, tamil_tenant, "calls", room)
    [complaint] = stored_rows(stack, tamil_tenant, "complaints", room)
    assert call["outcome"] == "complaint_logged" and created_by(stack, tamil_tenant, complaint) == stored_room_name(
        room
    )
    assert complaint["idempotency_key"].startswith(f"{stored_room_name(room)}:log_complaint:")


def test_the_worker_masks_livekit_agents_own_lines_on_its_root_handlers(stack: Any) -> None:
    """livekit-agents logs the room as LiveKit names it, and the SIP identity; the worker's root handlers
    (the CLI's, once the worker starts; a job process's, in prewarm) mask them."""
    from agent_pool import worker

    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logging.Formatter("%(message)s %(room)s %(participant)s"))
    root = logging.getLogger()
    others = {h: list(h.filters) for h in root.handlers}  # pytest's own: left as they were
    root.addHandler(handler)
    try:
        worker.server.emit("worker_started")
        room = "mla-abcde12345-call_+919876543210_Kd8sYq2LmNpR"
        extra = {"room": room, "participant": "sip_+919876543210"}
        logging.getLogger("livekit.agents").warning("received job request", extra=extra)
    finally:
        root.removeHandler(handler)
        for other, filters in others.items():
            other.filters[:] = filters
    assert any(isinstance(f, RedactNumbers) for f in handler.filters)
    assert not re.search(mentions_pattern("+919876543210"), written.getvalue()) and "3210" in written.getvalue()


def test_a_functions_logger_masks_numbers_in_what_it_writes() -> None:
    package = logging.getLogger("mla_core")
    before = (list(package.handlers), package.propagate, package.level)
    written = io.StringIO()
    try:
        logger = function_logger("privacy-test")
        logger.registered_handler.setStream(written)  # type: ignore[attr-defined]
        logger.warning("sns failed for +919876543210", extra={"error": "Invalid parameter: PhoneNumber 919876543210"})
        logging.getLogger("mla_core.privacy_test").warning("queued", extra={"key": "call:mla-x-call_+919876543210_A"})
    finally:
        package.handlers[:], package.propagate = before[0], before[1]
        package.setLevel(before[2])
    assert written.getvalue().count('"level":"WARNING"') == 2
    assert not re.search(mentions_pattern("+919876543210"), written.getvalue())
