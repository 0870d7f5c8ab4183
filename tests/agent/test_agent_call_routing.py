"""Which tenant a call reaches, and that it reaches no other: unknown and paused numbers, the Redis
fallback to Postgres, status checks scoped to the caller and the tenant, parallel calls."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import pytest
from agent_support import CallFactory, agent_lines, complaints_of, rows, say_reference, tenant_table, tool_outputs
from psycopg import sql
from upstash_redis import Redis

from agent_pool import phrases
from agent_pool.testing import CallTool, Say
from mla_core.adapters import Services
from mla_core.adapters.upstash import config_key, routes_key
from mla_core.agents import manage
from mla_core.agents.routing import load_agent_config
from mla_core.core.errors import TransientError
from mla_core.core.principal import Principal
from mla_core.core.privacy import mask_phone
from support import Api, tenant_body, unique_number

WATER = {"category": "water", "description": "No water for three days", "location": "Ward 12, Nehru Street"}


def redis(stack: Any) -> Redis:
    return Redis(stack.env["UPSTASH_REDIS_REST_URL"], stack.env["UPSTASH_REDIS_REST_TOKEN"], rest_retries=0)


async def test_an_unknown_number_hears_an_apology_in_hindi_and_english_and_is_logged_as_rejected(
    phone_call: CallFactory, caller: str, caplog: pytest.LogCaptureFixture
) -> None:
    dialed = unique_number()
    with caplog.at_level(logging.WARNING, logger="mla_core.calls.records"):
        async with phone_call(None, caller, [], dialed_number=dialed) as (run, llm):
            assert run.rejected and run.outcome == "rejected"
            assert agent_lines(run) == [phrases.REJECTION]
            assert await run.wait_closed(timeout=5)  # hung up

    assert llm.requests == []  # the LLM never ran
    [event] = [r for r in caplog.records if r.getMessage() == "call rejected"]
    assert event.dialed == mask_phone(dialed) and event.reason == "no_tenant"  # type: ignore[attr-defined]
    assert caller not in str(event.__dict__)  # the caller's number is masked


async def test_a_paused_office_says_so_in_its_language_and_keeps_a_missed_call(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, services: Services, stack: Any
) -> None:
    config = load_agent_config(services, tamil_tenant["tenant_id"])
    assert config is not None
    services.agent_configs.put(config.model_copy(update={"status": "paused"}))
    try:
        async with phone_call(tamil_tenant, caller, []) as (run, _llm):
            assert run.rejected
            [line] = agent_lines(run)
            assert line == phrases.PAUSED["ta"].format(constituency=config.constituency)
    finally:
        services.agent_configs.put(config)
    missed = rows(
        stack,
        sql.SQL("SELECT status, outcome, caller_number FROM {} WHERE room_name = %s").format(
            tenant_table(tamil_tenant, "calls")
        ),
        run.request.room_name,
    )
    assert [(m["status"], m["outcome"], m["caller_number"]) for m in missed] == [("missed", "agent_paused", caller)]
    async with phone_call(tamil_tenant, caller, []) as (run, _llm):
        assert not run.rejected


async def test_a_missing_redis_config_is_read_from_postgres_and_written_back(
    api: Api, admin_token: str, phone_call: CallFactory, caller: str, stack: Any
) -> None:
    tenant = api.create_tenant(admin_token, tenant_body(languages=["hi", "en"]))
    key = config_key(tenant["tenant_id"])
    assert redis(stack).delete(key) == 1

    async with phone_call(tenant, caller, [CallTool("log_complaint", WATER), Say("ठीक है।")]) as (run, _llm):
        assert not run.rejected and "नमस्ते" in agent_lines(run)[0]
        await run.session.run(user_input="हाँ")

    assert json.loads(redis(stack).get(key))["tenant_id"] == tenant["tenant_id"]
    assert len(complaints_of(stack, tenant, caller)) == 1


async def test_the_tenant_in_the_job_metadata_wins_over_the_dialed_number(
    tamil_tenant: dict[str, Any], hindi_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    metadata = json.dumps({"tenant_id": hindi_tenant["tenant_id"]})
    async with phone_call(tamil_tenant, caller, [], job_metadata=metadata) as (run, _llm):
        assert run.call is not None and run.call.tenant.tenant_id == hindi_tenant["tenant_id"]
    async with phone_call(None, caller, [], dialed_number=unique_number(), job_metadata=metadata) as (run, _llm):
        assert not run.rejected  # an unknown DID still reaches the tenant its dispatch rule named


async def test_a_status_check_answers_for_the_callers_own_complaint(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    async with phone_call(tamil_tenant, caller, [CallTool("log_complaint", WATER), say_reference("{reference}")]) as (
        run,
        _llm,
    ):
        await run.session.run(user_input="yes")
        assert run.call is not None
        [logged] = run.call.logged

    spoken = phrases.spoken_digits(logged.reference)
    steps = [CallTool("check_complaint_status", {"reference": spoken}), Say("பதிவு செய்யப்பட்டுள்ளது.")]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        result = await run.session.run(user_input=f"என் புகார் {spoken} நிலை என்ன?")
        result.expect.next_event().is_function_call(name="check_complaint_status", arguments={"reference": spoken})
        output = result.expect.next_event().is_function_call_output().event().item
    assert not output.is_error and spoken in output.output and "குடிநீர்" in output.output
    assert "பதிவு செய்யப்பட்டுள்ளது" in output.output  # status "new" in Tamil
    assert run.outcome == "status_checked"


async def test_a_status_check_of_another_callers_or_another_tenants_reference_is_refused(
    tamil_tenant: dict[str, Any], hindi_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    steps = [CallTool("log_complaint", WATER), Say("ok")]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        await run.session.run(user_input="yes")
        assert run.call is not None
        [tamil_complaint] = run.call.logged
    other_caller = unique_number()
    async with phone_call(hindi_tenant, other_caller, steps) as (run, _llm):
        await run.session.run(user_input="yes")
        assert run.call is not None
        [hindi_complaint] = run.call.logged

    # Someone else asks about the first caller's complaint; the second caller asks the wrong office.
    for tenant, asking, reference in (
        (tamil_tenant, other_caller, tamil_complaint.reference),
        (tamil_tenant, other_caller, hindi_complaint.reference),
        (hindi_tenant, unique_number(), hindi_complaint.reference),
    ):
        check = [CallTool("check_complaint_status", {"reference": str(reference)}), Say("மன்னிக்கவும்.")]
        async with phone_call(tenant, asking, check) as (run, _llm):
            await run.session.run(user_input=f"status of {reference}")
            [output] = tool_outputs(run)
        assert output.is_error and "No complaint" in output.output
        assert "water" not in output.output.casefold() and "குடிநீர்" not in output.output


async def test_a_hidden_caller_cannot_read_any_complaint_status(
    tamil_tenant: dict[str, Any], phone_call: CallFactory
) -> None:
    async with phone_call(
        tamil_tenant, None, [CallTool("check_complaint_status", {"reference": "8999999"}), Say("மன்னிக்கவும்.")]
    ) as (run, _llm):
        await run.session.run(user_input="1001 status")
        [output] = tool_outputs(run)
    assert output.is_error and "privacy" in output.output


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("log_complaint", {**WATER, "description": ""}),
        ("log_complaint", {**WATER, "description": "   "}),
        ("log_complaint", {**WATER, "location": ""}),
        ("log_complaint", {**WATER, "category": "pizza delivery"}),
        ("log_complaint", {**WATER, "description": "x" * 5000}),
        ("log_complaint", {**WATER, "description": "?!?!"}),
        ("check_complaint_status", {"reference": "twelve"}),
        ("check_complaint_status", {"reference": "1" * 40}),
        ("switch_language", {"language": "Klingon"}),
        ("set_callback_number", {"phone_number": "12345"}),
    ],
)
async def test_empty_or_absurd_tool_arguments_are_refused_aloud_and_store_nothing(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any, tool: str, args: dict[str, Any]
) -> None:
    async with phone_call(tamil_tenant, caller, [CallTool(tool, args), Say("மன்னிக்கவும், மீண்டும் சொல்லுங்கள்.")]) as (
        run,
        _llm,
    ):
        result = await run.session.run(user_input="...")
        result.expect.next_event().is_function_call(name=tool)
        refused = result.expect.next_event().is_function_call_output(is_error=True).event().item
        result.expect.next_event().is_message(role="assistant")

    assert refused.output and refused.output[0].isupper() and refused.output.endswith(".")  # a sentence
    assert "Traceback" not in refused.output and "pydantic" not in refused.output.casefold()
    assert complaints_of(stack, tamil_tenant, caller) == []


async def test_a_tool_call_missing_required_arguments_is_refused_and_stores_nothing(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    # OpenAI's strict function calling always sends every argument; the framework refuses a call without.
    async with phone_call(tamil_tenant, caller, [CallTool("log_complaint", {"category": "water"}), Say("...")]) as (
        run,
        _llm,
    ):
        await run.session.run(user_input="...")
        [output] = tool_outputs(run)
    assert output.is_error
    assert complaints_of(stack, tamil_tenant, caller) == []


async def test_two_tenants_calls_in_parallel_never_touch_each_others_schema(
    tamil_tenant: dict[str, Any], hindi_tenant: dict[str, Any], phone_call: CallFactory, stack: Any
) -> None:
    callers = {"ta": [unique_number() for _ in range(4)], "hi": [unique_number() for _ in range(4)]}

    async def one_call(tenant: dict[str, Any], caller: str) -> str:
        async with phone_call(tenant, caller, [CallTool("log_complaint", WATER), say_reference("{reference}")]) as (
            run,
            _llm,
        ):
            await run.session.run(user_input="yes")
        return run.request.room_name

    rooms = await asyncio.gather(
        *(one_call(tamil_tenant, c) for c in callers["ta"]), *(one_call(hindi_tenant, c) for c in callers["hi"])
    )

    for tenant, own, other in ((tamil_tenant, "ta", "hi"), (hindi_tenant, "hi", "ta")):
        for caller in callers[own]:
            assert len(complaints_of(stack, tenant, caller)) == 1
        for caller in callers[other]:
            assert complaints_of(stack, tenant, caller) == []
        stored_rooms = {
            row["room_name"]
            for row in rows(stack, sql.SQL("SELECT room_name FROM {}").format(tenant_table(tenant, "calls")))
        }
        own_rooms = set(rooms[:4] if own == "ta" else rooms[4:])
        other_rooms = set(rooms[4:] if own == "ta" else rooms[:4])
        assert own_rooms <= stored_rooms and not other_rooms & stored_rooms


async def test_when_no_store_can_name_the_tenant_the_caller_hears_a_technical_apology(
    phone_call: CallFactory, caller: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_args: Any, **_kwargs: Any) -> None:
        raise TransientError("database unavailable: connection refused")

    monkeypatch.setattr("agent_pool.call.resolve_call_tenant", unreachable)  # Redis and Postgres both down
    async with phone_call(None, caller, [], dialed_number=unique_number()) as (run, llm):
        assert run.rejected and agent_lines(run) == [phrases.TEMPORARY_FAILURE]
    assert llm.requests == []


async def test_a_call_to_an_added_agents_number_gets_that_agent_even_when_redis_forgets_it(
    api: Api, admin_token: str, phone_call: CallFactory, caller: str, services: Services, stack: Any
) -> None:
    tenant = api.create_tenant(admin_token, tenant_body(languages=["ta", "en"]))
    tenant_id, helpline = tenant["tenant_id"], unique_number()
    admin = Principal(user_id=str(uuid.uuid4()), email="admin@example.in", role="mla_admin", tenant_id=tenant_id)
    body = manage.AgentCreate(
        name="Hindi helpline", phone_numbers=[helpline], languages=["hi"], greetings={"hi": "हिंदी हेल्पलाइन।"}
    )
    added = (await asyncio.to_thread(manage.create_agent, services, admin, body))["agent_id"]
    metadata = json.dumps({"tenant_id": tenant_id})  # what the office's one dispatch rule sends

    for forgotten in (False, True):
        if forgotten:
            assert redis(stack).delete(routes_key(tenant_id), config_key(tenant_id, added)) == 2
        async with phone_call(tenant, caller, [], dialed_number=helpline, job_metadata=metadata) as (run, _llm):
            assert not run.rejected and agent_lines(run)[0].startswith("हिंदी हेल्पलाइन।")

    assert redis(stack).hget(routes_key(tenant_id), helpline) == added  # written back from Postgres
    async with phone_call(tenant, caller, [], job_metadata=metadata) as (run, _llm):
        assert agent_lines(run)[0].startswith("வணக்கம்")  # the office's own number: its main agent


async def test_a_test_call_from_the_dashboard_reaches_the_agent_it_named(
    api: Api, admin_token: str, phone_call: CallFactory, caller: str, services: Services
) -> None:
    tenant = api.create_tenant(admin_token, tenant_body(languages=["ta", "en"]))
    admin = Principal(user_id=str(uuid.uuid4()), email="a@example.in", role="mla_admin", tenant_id=tenant["tenant_id"])
    body = manage.AgentCreate(
        name="Hindi line", phone_numbers=[unique_number()], languages=["hi"], greetings={"hi": "हिंदी लाइन।"}
    )
    added = (await asyncio.to_thread(manage.create_agent, services, admin, body))["agent_id"]
    metadata = json.dumps({"tenant_id": tenant["tenant_id"], "agent_id": added, "test_call": True})
    other = json.dumps({"tenant_id": tenant["tenant_id"], "agent_id": "someoneelse-main"})

    async with phone_call(tenant, caller, [], job_metadata=metadata) as (run, _llm):
        assert agent_lines(run)[0].startswith("हिंदी लाइन।")  # the named agent, not the dialed number's
    async with phone_call(tenant, caller, [], job_metadata=other) as (run, _llm):
        assert agent_lines(run)[0].startswith("வணக்கம்")  # another tenant's agent id is ignored
