"""The agent's tools as an edge: the LLM's text held to the rule every edge applies (control characters
refused, NFC), digits read as ASCII whatever script they come in, and the SIP numbers of a call too."""

from __future__ import annotations

import unicodedata
from typing import Any

from agent_support import CallFactory, complaints_of, tool_outputs

from agent_pool.agent import indian_mobile
from agent_pool.call import CallRequest
from agent_pool.testing import CallTool, Say

WATER = {
    "category": "water",
    "description": "மூன்று நாட்களாக குடிநீர் வரவில்லை, தொட்டி காலி",
    "location": "நேரு தெரு, வார்டு 12",
}


async def test_a_complaint_with_a_control_character_is_not_logged_and_the_llm_hears_why(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    steps = [CallTool("log_complaint", {**WATER, "location": "நேரு தெரு\x00"}), Say("மீண்டும் சொல்லுங்கள்.")]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        await run.session.run(user_input="ஆமாம்")
        [output] = tool_outputs(run)

    assert output.is_error and "location" in output.output and "U+0000" in output.output
    assert complaints_of(stack, tamil_tenant, caller) == []


async def test_a_complaint_the_llm_wrote_decomposed_is_stored_composed(
    tamil_tenant: dict[str, Any], phone_call: CallFactory, caller: str, stack: Any
) -> None:
    decomposed = {name: unicodedata.normalize("NFD", value) for name, value in WATER.items()}
    assert decomposed["description"] != WATER["description"]
    steps = [CallTool("log_complaint", decomposed), Say("பதிவு செய்யப்பட்டது.")]
    async with phone_call(tamil_tenant, caller, steps) as (run, _llm):
        await run.session.run(user_input="ஆமாம்")

    [row] = complaints_of(stack, tamil_tenant, caller)
    assert (row["description"], row["location"]) == (WATER["description"], WATER["location"])


def test_digits_in_any_script_make_the_same_number() -> None:
    assert indian_mobile("९८७६५ ४३२१०") == indian_mobile("９８７６５４３２１０") == "+919876543210"
    assert indian_mobile("98765²3210") is None  # a superscript is no digit


def test_the_numbers_of_a_sip_call_are_read_in_ascii_digits() -> None:
    attributes = {"sip.phoneNumber": "+91９８７６５４３２１０", "sip.trunkPhoneNumber": "+914440001234"}

    request = CallRequest.from_sip("room", "{}", attributes)

    assert (request.caller_number, request.dialed_number) == ("+919876543210", "+914440001234")
    assert CallRequest.from_sip("room", "", {"sip.phoneNumber": "anonymous"}).caller_number is None
