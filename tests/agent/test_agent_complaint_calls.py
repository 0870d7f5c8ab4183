"""Complaint calls end to end in text mode: the real agent, tools, Postgres, Redis and moto SNS; only
the LLM is scripted."""

from __future__ import annotations

from typing import Any

from agent_support import (
    CallFactory,
    agent_lines,
    call_record,
    complaint_logged_by,
    complaints_for_callback,
    complaints_of,
    say_reference,
    sms_to,
    tool_outputs,
)

from agent_pool.phrases import spoken_digits
from agent_pool.testing import CallTool, Say
from mla_core.adapters import Services
from mla_core.agents.routing import load_agent_config

TAMIL_WATER = {
    "category": "water",
    "description": "மூன்று நாட்களாக குடிநீர் வரவில்லை",
    "location": "நேரு தெரு, வார்டு 12",
    "caller_name": "முருகன்",
    "landmark": "கோவில் குளம் அருகில்",
}
HINDI_STREETLIGHT = {
    "category": "streetlights",
    "description": "दो हफ्ते से स्ट्रीट लाइट बंद है",
    "location": "गांधी नगर, वार्ड 7",
    "caller_name": "सुनीता",
    "landmark": "पानी की टंकी के पास",
}


async def test_a_tamil_call_logs_the_complaint_confirms_it_by_sms_and_reads_back_the_stored_reference(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any, services: Services
) -> None:
    steps = [
        Say("சரி முருகன். நேரு தெரு, வார்டு 12, குடிநீர் வரவில்லை. பதிவு செய்யலாமா?"),
        CallTool("log_complaint", TAMIL_WATER),
        say_reference("பதிவு செய்யப்பட்டது. உங்கள் புகார் எண் {reference}."),
    ]
    async with phone_call(tamil_tenant, caller, steps) as (run, llm):
        greeting = " ".join(agent_lines(run)[:2])  # the greeting to its notice, then its closing question
        await run.session.run(user_input="நேரு தெரு வார்டு 12ல மூன்று நாளா தண்ணி வரல. என் பெயர் முருகன்.")
        result = await run.session.run(user_input="ஆமாம்")
        result.expect.next_event().is_function_call(name="log_complaint", arguments=TAMIL_WATER)
        result.expect.next_event().is_function_call_output(is_error=False)
        spoken = result.expect.next_event().is_message(role="assistant").event().item.text_content or ""

    config = load_agent_config(services, tamil_tenant["tenant_id"])
    assert config is not None
    assert greeting == config.profiles["ta"].greeting and "பதிவு செய்யப்படுகிறது" in greeting  # the DPDP notice
    [row] = complaints_of(stack, tamil_tenant, caller)
    assert spoken_digits(row["reference"]) in spoken
    assert (row["category"], row["description"], row["location"]) == (
        "water",
        TAMIL_WATER["description"],
        TAMIL_WATER["location"],
    )
    assert (row["caller_name"], row["landmark"], row["caller_number"]) == ("முருகன்", TAMIL_WATER["landmark"], caller)
    assert (row["language"], row["status"], row["channel"], row["room_name"]) == (
        "ta",
        "new",
        "phone",
        run.request.room_name,
    )
    assert row["sla_due_at"] is not None and row["call_id"] is not None  # linked to the call record
    [sms] = sms_to(caller)
    assert str(row["reference"]) in sms["body"] and "குடிநீர்" in sms["body"]
    assert sms["attributes"]["AWS.MM.SMS.EntityId"] == config.sms.dlt_entity_id
    assert sms["attributes"]["AWS.MM.SMS.TemplateId"] == "1107000000000000001"  # the local stack's id
    assert llm.remaining == 0 and llm.overruns == 0


async def test_a_hindi_call_logs_the_complaint_in_hindi_with_every_field(
    hindi_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    steps = [CallTool("log_complaint", HINDI_STREETLIGHT), say_reference("शिकायत दर्ज हो गई। संख्या {reference}।")]
    async with phone_call(hindi_tenant, caller, steps) as (run, _llm):
        assert "रिकॉर्ड की जा रही है" in agent_lines(run)[0]  # greeting in Hindi, with the recording notice
        result = await run.session.run(user_input="हाँ, गांधी नगर वार्ड 7 की स्ट्रीट लाइट की शिकायत दर्ज कीजिए")
        result.expect.next_event().is_function_call(name="log_complaint", arguments=HINDI_STREETLIGHT)
        result.expect.next_event().is_function_call_output(is_error=False)
        spoken = result.expect.next_event().is_message(role="assistant").event().item.text_content or ""

    [row] = complaints_of(stack, hindi_tenant, caller)
    assert spoken_digits(row["reference"]) in spoken
    assert row["category"] == "streetlights" and row["language"] == "hi" and row["caller_name"] == "सुनीता"
    assert row["landmark"] == HINDI_STREETLIGHT["landmark"] and row["location"] == HINDI_STREETLIGHT["location"]
    [sms] = sms_to(caller)
    assert str(row["reference"]) in sms["body"] and "शिकायत" in sms["body"] and "स्ट्रीट लाइट" in sms["body"]
    assert set(sms["attributes"]) >= {"AWS.MM.SMS.EntityId", "AWS.MM.SMS.TemplateId", "AWS.SNS.SMS.SMSType"}


async def test_the_call_record_keeps_transcript_language_outcome_latency_and_the_notice(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
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
        assert await run.wait_closed(timeout=5)  # end_call hung up

    record = call_record(stack, tamil_tenant, run.request.room_name)
    assert record["outcome"] == "complaint_logged" and record["status"] == "completed" and record["language"] == "ta"
    assert record["caller_number"] == caller and record["dialed_number"] == tamil_tenant["phone_numbers"][0]
    assert record["notice_played_at"] is not None and record["started_at"] <= record["notice_played_at"]
    kinds = [(entry["type"], entry.get("role") or entry.get("name")) for entry in record["transcript"]]
    assert kinds[:5] == [
        ("message", "agent"),  # the greeting to its recording notice
        ("message", "agent"),  # its closing question
        ("message", "caller"),
        ("tool_call", "log_complaint"),
        ("tool_result", "log_complaint"),
    ]
    assert ("tool_call", "end_call") in kinds and kinds[-1] == ("message", "agent")
    latency = record["latency"]
    assert latency["setup_ms"] > 0 and latency["tenant_resolution_ms"] > 0
    assert len(latency["turns"]) == 2 and all("llm_node_ttft" in turn for turn in latency["turns"])
    assert "llm_node_ttft_p50" in latency["summary"]


async def test_the_same_tool_call_repeated_by_the_llm_makes_one_complaint(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    again = {**TAMIL_WATER, "description": "  மூன்று நாட்களாக   குடிநீர் வரவில்லை ", "category": "WATER"}
    steps = [
        CallTool("log_complaint", TAMIL_WATER),
        say_reference("எண் {reference}."),
        CallTool("log_complaint", again),
        say_reference("எண் {reference}."),
    ]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        await run.session.run(user_input="ஆமாம்")
        await run.session.run(user_input="பதிவு ஆச்சா? மறுபடியும் பதிவு பண்ணுங்க")
        first, second = tool_outputs(run)
        assert first.output == second.output and not second.is_error
        assert run.call is not None and len(run.call.logged) == 1

    assert len(complaints_of(stack, tamil_tenant, caller)) == 1
    assert len(sms_to(caller)) == 1


async def test_a_caller_switching_language_is_answered_and_logged_in_the_new_language(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    steps = [
        CallTool("switch_language", {"language": "हिंदी"}),
        Say("ठीक है, हिंदी में बात करते हैं।"),
        CallTool("log_complaint", {**HINDI_STREETLIGHT, "category": "स्ट्रीट लाइट"}),
        say_reference("शिकायत संख्या {reference}।"),
    ]
    async with phone_call(tamil_tenant, caller, steps) as (run, llm):
        result = await run.session.run(user_input="मुझे हिंदी में बात करनी है")
        result.expect.contains_agent_handoff()
        await run.session.run(user_input="गांधी नगर वार्ड 7 की स्ट्रीट लाइट खराब है, दर्ज कीजिए")
        assert run.call is not None and run.call.languages == ["ta", "hi"]

    instructions_after_switch = llm.requests[-1].items[0].text_content or ""
    assert "speak Hindi only" in instructions_after_switch
    assert any(m.text_content == "मुझे हिंदी में बात करनी है" for m in llm.requests[-1].messages())  # history kept
    [row] = complaints_of(stack, tamil_tenant, caller)
    assert row["language"] == "hi" and row["category"] == "streetlights"
    [sms] = sms_to(caller)
    assert "शिकायत" in sms["body"]
    assert call_record(stack, tamil_tenant, run.request.room_name)["language"] == "hi"


async def test_a_returning_caller_hears_their_open_complaints_first(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    logged = await complaint_logged_by(phone_call, tamil_tenant, caller, TAMIL_WATER)
    async with phone_call(tamil_tenant, caller, []) as (run, _):
        greeting, summary = agent_lines(run)

    assert "பதிவு செய்யப்படுகிறது" in greeting
    assert spoken_digits(logged.reference) in summary and "குடிநீர்" in summary
    assert "பதிவு செய்யப்பட்டுள்ளது" in summary  # status "new", in Tamil


async def test_a_hidden_caller_is_asked_for_a_callback_number_before_anything_is_logged(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    spoken_number = " ".join(caller[3:])  # "9 0 1 2 …", as a caller says it
    steps = [
        CallTool("log_complaint", TAMIL_WATER),
        Say("உங்கள் மொபைல் எண்ணைச் சொல்லுங்கள்."),
        CallTool("set_callback_number", {"phone_number": spoken_number}),  # reads it back; no reply of its own
        CallTool("confirm_callback_number"),
        Say("நன்றி."),
        CallTool("log_complaint", TAMIL_WATER),
        say_reference("எண் {reference}."),
    ]
    async with phone_call(tamil_tenant, None, steps) as (run, llm):
        result = await run.session.run(user_input="ஆமாம் பதிவு செய்யுங்கள்")
        result.expect.next_event().is_function_call(name="log_complaint")
        refused = result.expect.next_event().is_function_call_output(is_error=True).event().item
        assert "set_callback_number" in refused.output
        assert complaints_for_callback(stack, tamil_tenant, caller) == []
        await run.session.run(user_input=spoken_number)
        await run.session.run(user_input="ஆமாம், சரிதான்")
        result = await run.session.run(user_input="இப்போது பதிவு செய்யுங்கள்")
        result.expect.next_event().is_function_call(name="log_complaint")
        result.expect.next_event().is_function_call_output(is_error=False)
        assert "phone number is hidden" in (llm.requests[0].items[0].text_content or "")

    [row] = complaints_for_callback(stack, tamil_tenant, caller)
    assert row["room_name"] == run.request.room_name and row["caller_number"] is None
    assert complaints_of(stack, tamil_tenant, caller) == []  # the callback number does not own it
    assert len(sms_to(caller)) == 1
    assert call_record(stack, tamil_tenant, run.request.room_name)["caller_number"] is None
