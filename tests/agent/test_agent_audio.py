"""Calls heard as audio (issue 16): the worker's Silero VAD and turn handling on real speech (espeak-ng), the
agent's voice as real audio frames. Every bound is in audio time (`agent_pool.testing_audio.AudioClock`),
never wall-clock time, so the tests hold on a loaded machine. Each call is a few seconds of audio."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from livekit.agents import llm, vad

from agent_pool import plugins
from agent_pool.settings import get_worker_settings
from agent_pool.testing import Say, ScriptedLLM
from agent_pool.testing_audio import AudioCall, Pause, Segment, agent_speech, audio_call
from mla_core.adapters import Services
from support import Api, tenant_body

# The caller hears the first word this soon after the call is answered (audio time): our setup, the tenant's
# resolution and the first sentence's synthesis, with LiveKit's and the phone network's share on top.
GREETING_WITHIN = 1.0
# A real sentence silences the agent this soon after the caller starts it: the VAD's minimum speech
# (`interruption_min_duration`, 0.6 s), the STT's first words, and a frame or two.
INTERRUPTED_WITHIN = 1.2
# The agent answers this soon after the caller's last word beyond the endpointing delay: its first
# sentence's synthesis and a frame (preemptive generation hides the LLM in the delay).
REPLY_AFTER_DELAY_WITHIN = 0.3
pytestmark = [pytest.mark.audio, pytest.mark.usefixtures("speech")]
REPLY = Say(
    "I am sorry to hear that. Please tell me the name of your street and a landmark near it, "
    "so that the office can send someone to look at the problem."
)


@pytest.fixture(scope="module")
def silero() -> vad.VAD:
    return plugins.load_vad()  # the worker's own VAD and settings


@pytest.fixture(scope="module")
def english_tenant(api: Api, admin_token: str) -> dict[str, Any]:
    """A short English greeting: "Hello! This call is recorded to register your complaint. The office remembers
    your details for your next call." (about 6 s)."""
    return api.create_tenant(admin_token, tenant_body(languages=["en"], greeting="Hello!"))


# `async with call_in_audio([llm steps…]) as (audio, llm)`: a call to the English tenant, answered at audio time 0.
AudioCallFactory = Callable[[list[Any]], contextlib.AbstractAsyncContextManager[tuple[AudioCall, ScriptedLLM]]]


@pytest.fixture
def call_in_audio(services: Services, silero: vad.VAD, english_tenant: dict[str, Any], caller: str) -> AudioCallFactory:
    @contextlib.asynccontextmanager
    async def call(llm_steps: list[Any]) -> AsyncIterator[tuple[AudioCall, ScriptedLLM]]:
        scripted = ScriptedLLM(llm_steps)
        async with audio_call(
            services,
            lambda _settings: scripted,
            silero,
            dialed_number=english_tenant["phone_numbers"][0],
            caller_number=caller,
            room_name=f"audio-{uuid.uuid4().hex[:12]}",
        ) as audio:
            yield audio, scripted

    return call


def _user_turns(request: llm.ChatContext) -> list[str]:
    return [item.text_content or "" for item in request.items if item.type == "message" and item.role == "user"]


async def _reply_segment(audio: AudioCall, after: float) -> Segment:
    """The agent's utterance whose first frame the caller hears after `after`."""
    started = await audio.heard.wait_heard(after=after)
    [segment] = [s for s in audio.heard.segments if s.started_at == started]
    return segment


async def _until_ended(audio: AudioCall, segment: Segment, *, within: float) -> None:
    deadline = audio.clock.now + within
    while segment.ended_at is None and audio.clock.now < deadline:
        await audio.clock.wait(0.1)
    assert segment.ended_at is not None, agent_speech(audio.heard.segments)


async def test_the_greeting_is_heard_within_a_second_of_the_answer(call_in_audio: AudioCallFactory) -> None:
    async with call_in_audio([]) as (audio, _):
        first = await audio.heard.wait_heard()
        assert first - audio.answered_at <= GREETING_WITHIN
        assert not audio.caller.utterances  # before the caller had anything to say


async def _while_the_agent_replies(audio: AudioCall) -> Segment:
    """The caller asks; returns the agent's reply once it has played 0.8 s (the moment to talk over it)."""
    await audio.run.wait_greeted()
    asked = audio.caller.say("My water supply has stopped.")
    reply = await _reply_segment(audio, after=asked.end)
    assert reply.started_at is not None
    await audio.clock.wait_until(reply.started_at + 0.8)
    return reply


def _heard_in_full(reply: Segment) -> bool:
    return not reply.interrupted and reply.played == pytest.approx(reply.captured, abs=0.05) and reply.played >= 4.0


@pytest.mark.parametrize(
    ("backchannel", "language"),
    [("haan", "en"), ("haan ji", "en"), ("சரி சரி", "ta")],
    ids=["a one-word filler", "haan ji", "sari sari"],
)
async def test_a_filler_or_a_two_word_backchannel_while_the_agent_speaks_does_not_stop_it(
    call_in_audio: AudioCallFactory, backchannel: str, language: str
) -> None:
    async with call_in_audio([REPLY, Say("Okay.")]) as (audio, scripted):
        reply = await _while_the_agent_replies(audio)
        # Drawn out past the VAD's minimum speech, so only the word count keeps the agent talking.
        said = audio.caller.say(backchannel, language=language, words_per_minute=60)
        assert said.end - said.start > get_worker_settings().interruption_min_duration
        await _until_ended(audio, reply, within=15)

        assert _heard_in_full(reply), agent_speech(audio.heard.segments)
        assert audio.heard.pauses == []
        assert len(scripted.requests) == 1  # no new turn: the agent did not answer it


async def test_a_cough_while_the_agent_speaks_neither_stops_nor_pauses_it(call_in_audio: AudioCallFactory) -> None:
    async with call_in_audio([REPLY, Say("Okay.")]) as (audio, scripted):
        reply = await _while_the_agent_replies(audio)
        cough = audio.caller.say("ahem, ahem", words_per_minute=80, heard_as="")  # sound the STT finds no words in
        assert cough.end - cough.start > get_worker_settings().interruption_min_duration
        await _until_ended(audio, reply, within=15)

        assert _heard_in_full(reply), agent_speech(audio.heard.segments)
        assert audio.heard.pauses == []  # no words, so the interruption's word count is never met
        assert len(scripted.requests) == 1


async def test_voices_in_the_background_pause_the_agent_and_it_resumes_its_sentence(
    call_in_audio: AudioCallFactory,
) -> None:
    """A false interruption: the STT guesses at words while a voice nearby lasts, then finalises nothing."""
    settings = get_worker_settings()
    async with call_in_audio([REPLY, Say("Okay.")]) as (audio, scripted):
        reply = await _while_the_agent_replies(audio)
        voices = audio.caller.say("where is the bus stand from here", final_as="")
        await _until_ended(audio, reply, within=20)

        [(paused, resumed)] = audio.heard.pauses
        assert paused - voices.start <= INTERRUPTED_WITHIN
        assert resumed is not None
        # The VAD's end of speech (its 0.45 s of silence), then the false-interruption timeout.
        assert resumed - voices.end <= 0.45 + settings.false_interruption_timeout + 0.3, audio.heard.pauses
        assert _heard_in_full(reply), agent_speech(audio.heard.segments)
        assert len(scripted.requests) == 1


async def test_a_pause_mid_sentence_does_not_end_the_callers_turn(call_in_audio: AudioCallFactory) -> None:
    """An elderly caller thinks for 2.5 s after "near"; the turn ends once they finish, not in the pause."""
    settings = get_worker_settings()
    async with call_in_audio([REPLY]) as (audio, scripted):
        await audio.run.wait_greeted()
        last = audio.caller.say("The water pipe near", Pause(2.5), "the temple is broken.", words_per_minute=130)
        first = audio.caller.utterances[-2]
        assert round(last.start - first.end, 6) >= 2.5  # audio time is a sum of frames: 2.4999… is 2.5

        replied = await audio.heard.wait_heard(after=first.end)
        assert replied >= last.end, agent_speech(audio.heard.segments)  # not a word into the pause
        assert replied - last.end <= settings.endpointing_min_delay + REPLY_AFTER_DELAY_WITHIN
        assert _user_turns(scripted.requests[-1])[-1] == "The water pipe near the temple is broken."


async def test_a_real_sentence_interrupts_the_agent_and_it_listens(call_in_audio: AudioCallFactory) -> None:
    async with call_in_audio([REPLY, Say("Sorry. Please go on.")]) as (audio, scripted):
        reply = await _while_the_agent_replies(audio)
        barge_in = audio.caller.say("No wait, the real problem is the drainage near the temple.")
        await _until_ended(audio, reply, within=10)

        last_heard = max(f.at + f.duration for f in audio.heard.heard if f.segment == reply.index)
        assert reply.interrupted, agent_speech(audio.heard.segments)
        assert last_heard - barge_in.start <= INTERRUPTED_WITHIN, agent_speech(audio.heard.segments)
        await audio.clock.wait_until(barge_in.end + 3.0)
        assert len(scripted.requests) == 2
        assert _user_turns(scripted.requests[-1])[-1] == barge_in.text
