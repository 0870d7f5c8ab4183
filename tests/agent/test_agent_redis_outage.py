"""A call while Redis is down: the stack's redis-server really stopped, the agent answers from
Postgres and the complaint is taken with a reference from Postgres."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_support import CallFactory, agent_lines, call_record, complaints_of, say_reference, sms_to, tool_outputs

from agent_pool.phrases import spoken_digits
from agent_pool.testing import CallTool
from mla_core.adapters import Services
from mla_core.agents.routing import resolve_call_tenant
from mla_core.complaints.store import REFERENCE_CEILING

WATER = {"category": "water", "description": "மூன்று நாட்களாக குடிநீர் வரவில்லை", "location": "நேரு தெரு, வார்டு 12"}


async def test_with_redis_down_a_call_is_answered_and_its_complaint_taken(
    tamil_tenant: dict[str, Any],
    phone_call: CallFactory,
    caller: str,
    stack: Any,
    services: Services,
    redis_down: Callable[[], None],
) -> None:
    steps = [CallTool("log_complaint", WATER), say_reference("பதிவு செய்யப்பட்டது. உங்கள் புகார் எண் {reference}.")]
    # By the dialed number alone (no job metadata): both the tenant and its config come from Postgres.
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        assert not run.rejected
        assert "பதிவு செய்யப்படுகிறது" in agent_lines(run)[0]  # the tenant's greeting with the DPDP notice
        result = await run.session.run(user_input="நேரு தெரு வார்டு 12ல மூன்று நாளா தண்ணி வரல")
        result.expect.next_event().is_function_call(name="log_complaint")
        result.expect.next_event().is_function_call_output(is_error=False)
        spoken = result.expect.next_event().is_message(role="assistant").event().item.text_content or ""

    [row] = complaints_of(stack, tamil_tenant, caller)
    assert row["reference"] > REFERENCE_CEILING and spoken_digits(row["reference"]) in spoken
    assert not any(output.is_error for output in tool_outputs(run))
    [sms] = sms_to(caller)
    assert str(row["reference"]) in sms["body"]
    assert call_record(stack, tamil_tenant, run.request.room_name)["outcome"] == "complaint_logged"

    redis_down()  # Redis is back: the next call's config comes from Postgres once more and is written to Redis
    number = tamil_tenant["phone_numbers"][0]
    assert resolve_call_tenant(services, job_metadata="", dialed_number=number) is not None
    assert services.agent_configs.for_number(tamil_tenant["tenant_id"], number) is not None
