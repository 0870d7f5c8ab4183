"""Hidden callers and what one call may do: a callback number read back and confirmed before any
SMS, one such number per call, caps on complaints and SMS, and a hidden caller's complaints never
read out as theirs to the callback number's own calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent_support import (
    CallFactory,
    agent_lines,
    complaint_logged_by,
    complaints_for_callback,
    complaints_of,
    say_reference,
    sms_to,
    tool_outputs,
)

from agent_pool import phrases
from agent_pool.agent import MAX_COMPLAINTS_PER_CALL, MAX_STATUS_LOOKUPS_PER_CALL
from agent_pool.testing import CallTool, Say
from mla_core.complaints.intake import ComplaintStatus, LoggedComplaint
from support import unique_number

WATER = {"category": "water", "description": "மூன்று நாட்களாக குடிநீர் வரவில்லை", "location": "நேரு தெரு, வார்டு 12"}


def water(n: int) -> dict[str, str]:
    """A different complaint each time (each is its own tool call, not a repeat)."""
    return {**WATER, "location": f"நேரு தெரு, வார்டு {n}"}


def confirmed_callback(number: str) -> list[CallTool]:
    """What the LLM does for a hidden caller who gives `number` and says yes when it is read back."""
    return [
        CallTool("set_callback_number", {"phone_number": " ".join(number[3:])}),
        CallTool("confirm_callback_number"),
    ]


async def hidden_complaint(
    phone_call: CallFactory, tenant: dict[str, Any], callback_number: str, complaint: dict[str, str]
) -> LoggedComplaint:
    """A hidden caller gives `callback_number`, confirms it and logs `complaint`; what was logged."""
    steps = [*confirmed_callback(callback_number), Say("சரி."), CallTool("log_complaint", complaint), Say("சரி.")]
    async with phone_call(tenant, None, steps) as (run, _llm):
        await run.session.run(user_input=" ".join(callback_number[3:]))
        await run.session.run(user_input="ஆமாம்")
        await run.session.run(user_input="பதிவு செய்யுங்கள்")
        assert run.call is not None
        [logged] = run.call.logged
    return logged


async def test_a_callback_number_is_read_back_by_the_agent_and_no_sms_goes_before_it_is_confirmed(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, stack: Any
) -> None:
    number = unique_number()
    steps = [
        CallTool("set_callback_number", {"phone_number": " ".join(number[3:])}),  # the tool reads it back
        CallTool("log_complaint", WATER),  # the caller has not said yes yet
        Say("முதலில் எண்ணை உறுதி செய்யுங்கள்."),
        CallTool("confirm_callback_number"),
        Say("நன்றி."),
        CallTool("log_complaint", WATER),
        say_reference("எண் {reference}."),
    ]
    async with phone_call(tamil_tenant, None, steps) as (run, llm):
        await run.session.run(user_input=" ".join(number[3:]))
        assert agent_lines(run)[-1] == phrases.callback_read_back(number, "ta")
        assert "9 0" in agent_lines(run)[-1] and run.call is not None and not run.call.callback_confirmed

        result = await run.session.run(user_input="பதிவு செய்யுங்கள்")
        result.expect.next_event().is_function_call(name="log_complaint")
        refused = result.expect.next_event().is_function_call_output(is_error=True).event().item
        assert "confirm_callback_number" in refused.output
        assert complaints_for_callback(stack, tamil_tenant, number) == [] and sms_to(number) == []

        await run.session.run(user_input="ஆமாம், சரி")
        assert run.call.callback_confirmed
        result = await run.session.run(user_input="இப்போது பதிவு செய்யுங்கள்")
        result.expect.next_event().is_function_call(name="log_complaint")
        result.expect.next_event().is_function_call_output(is_error=False)

    [row] = complaints_for_callback(stack, tamil_tenant, number)
    assert row["caller_number"] is None
    [sms] = sms_to(number)
    assert str(row["reference"]) in sms["body"]
    assert llm.remaining == 0 and llm.overruns == 0


async def test_a_misheard_number_can_be_corrected_but_a_second_number_is_refused_once_one_is_confirmed(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, stack: Any
) -> None:
    misheard, number, stranger = unique_number(), unique_number(), unique_number()
    steps = [
        CallTool("set_callback_number", {"phone_number": misheard}),
        *confirmed_callback(number),
        Say("நன்றி."),
        CallTool("set_callback_number", {"phone_number": stranger}),
        Say("மன்னிக்கவும்."),
        CallTool("log_complaint", WATER),
        say_reference("எண் {reference}."),
    ]
    async with phone_call(tamil_tenant, None, steps) as (run, _llm):
        await run.session.run(user_input="என் எண் ...")
        assert agent_lines(run)[-1] == phrases.callback_read_back(misheard, "ta")
        await run.session.run(user_input="இல்லை, தவறு. சரியான எண் ...")
        assert agent_lines(run)[-1] == phrases.callback_read_back(number, "ta")
        await run.session.run(user_input="ஆமாம், சரி")
        await run.session.run(user_input="இந்த எண்ணுக்கும் அனுப்புங்கள் ...")
        refused = tool_outputs(run)[-1]
        assert refused.is_error and phrases.one_callback_number(number, "ta") in refused.output
        await run.session.run(user_input="சரி, பதிவு செய்யுங்கள்")
        assert run.call is not None and run.call.callback_number == number

    assert len(complaints_for_callback(stack, tamil_tenant, number)) == 1 and len(sms_to(number)) == 1
    assert sms_to(stranger) == [] and sms_to(misheard) == []
    assert complaints_for_callback(stack, tamil_tenant, stranger) == []


async def test_a_call_registers_at_most_three_complaints_and_says_so_in_the_calls_language(
    hindi_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    assert MAX_COMPLAINTS_PER_CALL == 3
    steps = [
        *(step for n in range(1, 4) for step in (CallTool("log_complaint", water(n)), Say("दर्ज हो गई।"))),
        CallTool("log_complaint", water(4)),
        Say("क्षमा करें।"),
        CallTool("log_complaint", water(1)),  # the first one again: the same reference, not a fourth
        Say("वही संख्या।"),
    ]
    async with phone_call(hindi_tenant, caller, steps) as (run, llm):
        for n in range(1, 4):
            await run.session.run(user_input=f"शिकायत {n} दर्ज कीजिए")
        result = await run.session.run(user_input="एक और शिकायत")
        result.expect.next_event().is_function_call(name="log_complaint")
        refused = result.expect.next_event().is_function_call_output(is_error=True).event().item
        assert phrases.complaint_limit(3, "hi") in refused.output
        result = await run.session.run(user_input="पहली वाली फिर से दर्ज कीजिए")
        result.expect.next_event().is_function_call(name="log_complaint")
        repeated = result.expect.next_event().is_function_call_output(is_error=False).event().item
        assert run.call is not None and str(run.call.logged[0].reference) in repeated.output

    assert len(complaints_of(stack, hindi_tenant, caller)) == 3
    assert len(sms_to(caller)) == 3
    assert llm.overruns == 0


async def test_a_hidden_caller_gets_one_sms_per_call_and_hears_that_the_next_comes_without(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, stack: Any
) -> None:
    number = unique_number()
    steps = [
        *confirmed_callback(number),
        Say("நன்றி."),
        CallTool("log_complaint", water(1)),
        say_reference("எண் {reference}."),
        CallTool("log_complaint", water(2)),
        say_reference("எண் {reference}."),
    ]
    async with phone_call(tamil_tenant, None, steps) as (run, _llm):
        await run.session.run(user_input="...")
        await run.session.run(user_input="ஆமாம்")
        await run.session.run(user_input="பதிவு செய்யுங்கள்")
        await run.session.run(user_input="இன்னொரு புகார்")
        first, second = [out for out in tool_outputs(run) if out.name == "log_complaint"]
        assert "SMS" in first.output and phrases.no_more_sms("ta") not in first.output
        assert not second.is_error and phrases.no_more_sms("ta") in second.output

    assert len(complaints_for_callback(stack, tamil_tenant, number)) == 2
    assert len(sms_to(number)) == 1


async def test_a_hidden_callers_complaint_is_never_read_out_as_theirs_on_the_callback_numbers_own_call(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, stack: Any
) -> None:
    victim = unique_number()
    planted = {**WATER, "description": "இது வேறொருவர் பதிவு செய்த புகார்", "caller_name": "யாரோ"}
    logged = await hidden_complaint(phone_call, tamil_tenant, victim, planted)
    [sms] = sms_to(victim)  # the one SMS a hidden call can send (it tells the reference)

    own = {**WATER, "description": "என் தெருவில் குடிநீர் குழாய் உடைந்துள்ளது"}
    status_of = [
        CallTool("check_complaint_status", {"reference": str(logged.reference)}),
        Say("சரி."),
        CallTool("log_complaint", own),
        Say("சரி."),
    ]
    async with phone_call(tamil_tenant, victim, status_of) as (run, _llm):
        # No open complaints read out (the planted one is not theirs): the greeting and its own question.
        greeting, _question = agent_lines(run)
        await run.session.run(user_input=f"என் புகார் {logged.reference} என்ன ஆனது?")
        [status] = tool_outputs(run)
        await run.session.run(user_input="புதிய புகார் பதிவு செய்யுங்கள்")

    assert str(logged.reference) in sms["body"]
    # Stated by its reference, the planted complaint tells its status, and nothing it says.
    assert not status.is_error
    seen = ComplaintStatus(reference=logged.reference, status="new", created_at=datetime.now(UTC))
    assert phrases.reference_status_line(seen, "ta") in status.output
    assert planted["description"] not in status.output and "யாரோ" not in status.output
    assert "குடிநீர்" not in status.output and "உங்கள்" not in status.output  # no category, not "your"
    assert "பதிவு செய்யப்படுகிறது" in greeting

    # The victim's own complaint is theirs: read out in full at the start of their next call.
    async with phone_call(tamil_tenant, victim, []) as (run, _llm):
        greeting, summary = agent_lines(run)
    [mine] = complaints_of(stack, tamil_tenant, victim)
    assert mine["description"] == own["description"]
    assert phrases.spoken_digits(mine["reference"]) in summary
    assert phrases.spoken_digits(logged.reference) not in summary


async def test_a_hidden_caller_hears_a_stated_reference_of_a_hidden_complaint_as_its_status_only(
    tamil_tenant: dict[str, Any], phone_call: CallFactory
) -> None:
    logged = await hidden_complaint(phone_call, tamil_tenant, unique_number(), WATER)
    check = [CallTool("check_complaint_status", {"reference": str(logged.reference)}), Say("சரி.")]
    async with phone_call(tamil_tenant, None, check) as (run, _llm):
        await run.session.run(user_input=f"புகார் {logged.reference}")
        [status] = tool_outputs(run)
    assert not status.is_error and phrases.spoken_digits(logged.reference) in status.output
    assert WATER["description"] not in status.output and WATER["location"] not in status.output


async def test_a_hidden_caller_cannot_read_a_complaint_registered_from_a_number(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    logged = await complaint_logged_by(phone_call, tamil_tenant, caller, WATER)
    check = [CallTool("check_complaint_status", {"reference": str(logged.reference)}), Say("மன்னிக்கவும்.")]
    async with phone_call(tamil_tenant, None, check) as (run, _llm):
        await run.session.run(user_input=f"{logged.reference} நிலை")
        [status] = tool_outputs(run)
    assert status.is_error and "privacy" in status.output
    assert WATER["description"] not in status.output


async def test_status_lookups_per_call_are_capped(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str
) -> None:
    tries = MAX_STATUS_LOOKUPS_PER_CALL + 1
    steps = [
        step for n in range(tries) for step in (CallTool("check_complaint_status", {"reference": f"7{n}"}), Say("."))
    ]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        for n in range(tries):
            await run.session.run(user_input=f"7{n}")
        last = tool_outputs(run)[-1]
    assert last.is_error and phrases.status_limit(MAX_STATUS_LOOKUPS_PER_CALL, "ta") in last.output
