"""The call record checkpointed during the call: a worker killed mid-call leaves the transcript so far
and the DPDP notice time; a call that ends leaves one complete record, which no late checkpoint undoes."""

from __future__ import annotations

import time
from typing import Any

from agent_support import CallFactory, call_record
from livekit.agents.testing import fake_job_context

from agent_pool.call import CallIO, CallRequest, start_call, transcript_of
from agent_pool.testing import CallTool, Say, ScriptedLLM
from mla_core.adapters import Services
from mla_core.calls import webhook_events
from mla_core.calls.records import CallRecord, store_call_checkpoint
from support import unique_number


async def test_a_worker_killed_mid_call_leaves_the_notice_time_and_the_transcript_up_to_the_last_turn(
    tamil_tenant: dict[str, Any], caller: str, stack: Any, services: Services
) -> None:
    tenant_id = tamil_tenant["tenant_id"]
    room = f"mla-{tenant_id}-call_killed_{unique_number()[3:]}"
    llm = ScriptedLLM([Say("சொல்லுங்கள், என்ன பிரச்சனை?"), Say("எந்த தெரு?"), Say("சரி.")])
    request = CallRequest(room_name=room, dialed_number=tamil_tenant["phone_numbers"][0], caller_number=caller)
    with fake_job_context(job_id=f"killed-{room}"):
        run = await start_call(request, services, CallIO(llm_factory=lambda _settings: llm))
        await run.wait_greeted()
        await run.session.run(user_input="வணக்கம், தண்ணீர் வரவில்லை")
        await run.session.run(user_input="மூன்று நாட்களாக")
        await run.wait_checkpointed()
        said = transcript_of(run.session.history)

        # The worker dies here: `finish()` never runs, so only the checkpoints were written.
        record = call_record(stack, tamil_tenant, request.room_name)  # stored without the caller's number
        assert run.call is not None and record["notice_played_at"] == run.call.notice_played_at is not None
        assert record["transcript"] == said and [e["role"] for e in said] == [
            "agent",  # the greeting to its recording notice
            "agent",  # its closing question
            "caller",
            "agent",
            "caller",
            "agent",
        ]
        assert (record["status"], record["outcome"], record["ended_at"]) == ("in_progress", None, None)
        assert (record["caller_number"], record["language"]) == (caller, "ta")
        await run.session.aclose()  # only to free this test's session; nothing records the call
        await run.wait_checkpointed()

    # The caller hangs up on the dead agent: LiveKit's webhook ends the row, the transcript stays.
    event = webhook_events.CallEvent(
        id=f"evt-{room}", event="room_finished", room_name=room, created_at=int(time.time()), room_end_reason="departed"
    )
    assert webhook_events.ingest(services.db, event).outcome == "applied"
    ended = call_record(stack, tamil_tenant, request.room_name)  # the webhook names the room as the agent does
    assert (ended["status"], ended["outcome"], ended["end_reason"]) == ("completed", None, "room_end_departed")
    assert ended["transcript"][: len(said)] == said and ended["notice_played_at"] == record["notice_played_at"]


async def test_a_call_that_ends_leaves_one_complete_record_that_a_late_checkpoint_does_not_undo(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any, services: Services
) -> None:
    steps = [Say("சொல்லுங்கள்."), CallTool("end_call"), Say("நன்றி, வணக்கம்!")]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        await run.session.run(user_input="வணக்கம்")
        await run.session.run(user_input="நன்றி, அவ்வளவுதான்")
        assert await run.wait_closed(timeout=5)
    await run.wait_checkpointed()
    assert run.outcome == "no_complaint" and run.call is not None
    record = call_record(stack, tamil_tenant, run.request.room_name)  # one row
    assert (record["status"], record["outcome"]) == ("completed", "no_complaint")
    assert record["transcript"] == transcript_of(run.session.history) and record["ended_at"] is not None
    assert record["started_at"] <= record["notice_played_at"] <= record["ended_at"]

    stale = CallRecord(tenant_id=tamil_tenant["tenant_id"], room_name=run.request.room_name, transcript=[])
    store_call_checkpoint(services, tamil_tenant["tenant_id"], stale)  # e.g. a write that was slow to land
    assert call_record(stack, tamil_tenant, run.request.room_name) == record
