"""A caller's turn goes on after a word no sentence ends with (agent_pool.turn_end)."""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import llm

from agent_pool.turn_end import UNLIKELY_THRESHOLD, UnfinishedSentence, sentence_goes_on


@pytest.mark.parametrize(
    "said",
    [
        "The water pipe near",
        "My name is",
        "the drain and",
        "It has been broken for, um",
        "The street light,",
        "पानी की पाइप और",
        "पानी नहीं आ रहा क्योंकि",
        "हमारे गाँव के",
        "எங்கள் தெருவில் குடிநீர் வரவில்லை மற்றும்",
        "கோவில் குளம் அந்த",
        "ஏனென்றால்",
    ],
)
def test_a_sentence_that_stops_on_a_word_it_goes_on_from_is_not_finished(said: str) -> None:
    assert sentence_goes_on(said)


@pytest.mark.parametrize(
    "said",
    [
        "The water pipe near the temple is broken.",
        "My name is Selvi",
        "Yes, register it.",
        "The street light is on",
        "Since when?",
        "हाँ जी",
        "मैंने शिकायत की",
        "घर पर",
        "इसका मतलब?",
        "நேரு தெரு, வார்டு 12. கோவில் குளம் அருகில்.",
        "உங்கள் பெயர் என்ன?",
        "சரி சரி",
        "",
    ],
)
def test_any_other_ending_is_a_finished_turn(said: str) -> None:
    assert not sentence_goes_on(said)


def test_the_detector_reads_the_callers_last_words_in_any_language() -> None:
    detector = UnfinishedSentence()
    context = llm.ChatContext()
    context.add_message(role="assistant", content="Please tell me your street and a landmark.")
    context.add_message(role="user", content="Nehru street, near")

    async def predicted() -> tuple[float, float | None, bool]:
        return (
            await detector.predict_end_of_turn(context),
            await detector.unlikely_threshold("ta"),
            await detector.supports_language(None),
        )

    probability, threshold, supported = asyncio.run(predicted())
    assert threshold == UNLIKELY_THRESHOLD and probability < UNLIKELY_THRESHOLD and supported
