"""Scripted stand-ins at the livekit-agents plugin interface: an LLM, a TTS and an STT.

The simulator, the tests and the benchmarks run the real agent with these in place of OpenAI,
Cartesia and Deepgram, so a call needs no network and no keys, and every run is reproducible.

A script is what the LLM "decides": one entry per `chat()` call, either a sentence to speak or a
tool to call. After a tool runs the framework calls `chat()` again, so a tool entry is followed
by the spoken follow-up (or by another tool entry).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import llm, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.voice import io as session_io


@dataclass(frozen=True)
class Say:
    """The LLM answers with this text."""

    text: str


@dataclass(frozen=True)
class CallTool:
    """The LLM calls one tool with these arguments."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserTurn:
    """The caller says this (fed to `AgentSession.run`, never to the LLM script)."""

    text: str


LlmStep = Say | CallTool
# A step decided when the LLM is called, from the conversation so far (e.g. a reference number
# that only exists once a complaint was logged).
DeferredStep = Callable[[llm.ChatContext], LlmStep]
ScriptTurn = UserTurn | LlmStep


class ScriptError(ValueError):
    """A script file that is not a list of user/assistant/tool turns."""


def parse_script(raw: Sequence[Mapping[str, Any]]) -> list[ScriptTurn]:
    """`[{"user": …}, {"assistant": …}, {"tool": name, "args": {…}}]` → typed turns."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ScriptError("a script is a JSON list of turns")
    turns: list[ScriptTurn] = []
    for position, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise ScriptError(f"turn {position} is not an object")
        if "user" in entry:
            turns.append(UserTurn(str(entry["user"])))
        elif "assistant" in entry:
            turns.append(Say(str(entry["assistant"])))
        elif "tool" in entry:
            args = entry.get("args", {})
            if not isinstance(args, Mapping):
                raise ScriptError(f"turn {position}: args must be an object")
            turns.append(CallTool(str(entry["tool"]), dict(args)))
        else:
            raise ScriptError(f"turn {position} has none of user, assistant, tool")
    return turns


class ScriptedLLM(llm.LLM):
    """An LLM that plays a script: each `chat()` consumes the next `Say` or `CallTool`.

    `requests` keeps every chat context it was given, for assertions. When the script runs out it
    answers with nothing and counts the overrun, so a caller can tell "the agent needed more
    turns than the script had" from a normal end.

    In an audio call, preemptive generation asks for a reply while the caller may still go on (a
    pause mid-sentence), and asks again with more of their words: a request for the same turn
    (nothing from the agent since, the caller's words extending the last request's) gets the same
    step again instead of the next one.
    """

    def __init__(self, steps: Iterable[LlmStep | DeferredStep] = ()) -> None:
        super().__init__()
        self._steps: list[LlmStep | DeferredStep] = list(steps)
        self.requests: list[llm.ChatContext] = []
        self.overruns = 0
        self._last_step: LlmStep | None = None

    @classmethod
    def from_turns(cls, turns: Iterable[ScriptTurn]) -> ScriptedLLM:
        return cls(turn for turn in turns if not isinstance(turn, UserTurn))

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def provider(self) -> str:
        return "agent_pool.testing"

    @property
    def remaining(self) -> int:
        return len(self._steps)

    def extend(self, steps: Iterable[LlmStep | DeferredStep]) -> None:
        self._steps.extend(steps)

    def prewarm(self, *, loop: Any = None) -> None:
        """Nothing to warm: the point is to never open a socket."""

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        previous = self.requests[-1] if self.requests else None
        self.requests.append(chat_ctx.copy())
        if previous is not None and _same_turn(previous, chat_ctx):
            step = self._last_step
        else:
            next_step = self._steps.pop(0) if self._steps else None
            step = next_step(chat_ctx) if callable(next_step) else next_step
            self._last_step = step
        if step is None:
            self.overruns += 1
        return _ScriptedStream(
            self, step, len(self.requests), chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )


def _same_turn(earlier: llm.ChatContext, later: llm.ChatContext) -> bool:
    """`later` asks for the reply `earlier` asked for, with more (or the same) of the caller's words."""

    def agent_items(context: llm.ChatContext) -> int:
        return sum(1 for item in context.items if item.type != "message" or item.role == "assistant")

    def last_said(context: llm.ChatContext) -> str | None:
        users = [item for item in context.items if item.type == "message" and item.role == "user"]
        return (users[-1].text_content or "").strip() if users else None

    before, after = last_said(earlier), last_said(later)
    return (
        before is not None
        and after is not None
        and agent_items(earlier) == agent_items(later)
        and after.startswith(before)
    )


class _ScriptedStream(llm.LLMStream):
    def __init__(self, owner: ScriptedLLM, step: LlmStep | None, number: int, **kwargs: Any) -> None:
        super().__init__(owner, **kwargs)
        self._step = step
        self._number = number

    async def _run(self) -> None:
        chunk_id = f"scripted-{self._number}"
        if isinstance(self._step, Say):
            delta = llm.ChoiceDelta(role="assistant", content=self._step.text)
        elif isinstance(self._step, CallTool):
            call = llm.FunctionToolCall(
                name=self._step.name, arguments=json.dumps(dict(self._step.args)), call_id=f"call_{self._number}"
            )
            delta = llm.ChoiceDelta(role="assistant", tool_calls=[call])
        else:
            return
        self._event_ch.send_nowait(llm.ChatChunk(id=chunk_id, delta=delta))


class FakeTTS(tts.TTS):
    """A TTS that "speaks" silence: 60 ms per character, mono 16 kHz, no network."""

    SAMPLE_RATE = 16_000

    def __init__(self, *, ms_per_char: int = 60) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=self.SAMPLE_RATE, num_channels=1
        )
        self._ms_per_char = ms_per_char
        self.spoken: list[str] = []

    @property
    def model(self) -> str:
        return "fake"

    @property
    def provider(self) -> str:
        return "agent_pool.testing"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        self.spoken.append(text)
        return _SilentStream(tts=self, input_text=text, conn_options=conn_options)


class _SilentStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner = self._tts
        assert isinstance(owner, FakeTTS)
        samples = FakeTTS.SAMPLE_RATE * owner._ms_per_char * max(1, len(self.input_text)) // 1000
        output_emitter.initialize(
            request_id=utils.shortuuid("fake_"), sample_rate=FakeTTS.SAMPLE_RATE, num_channels=1, mime_type="audio/pcm"
        )
        output_emitter.push(bytes(samples * 2))
        output_emitter.flush()


class FakeSTT(stt.STT):
    """A non-streaming STT that hears the next queued transcript, whatever the audio."""

    def __init__(self, transcripts: Iterable[str] = (), *, language: str = "en") -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._transcripts = list(transcripts)
        self._language = language

    @property
    def model(self) -> str:
        return "fake"

    @property
    def provider(self) -> str:
        return "agent_pool.testing"

    def queue(self, *transcripts: str) -> None:
        self._transcripts.extend(transcripts)

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        text = self._transcripts.pop(0) if self._transcripts else ""
        spoken_language = language if isinstance(language, str) else self._language
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language=spoken_language, text=text)],  # type: ignore[arg-type]
        )


def silence(seconds: float, sample_rate: int = 16_000) -> rtc.AudioFrame:
    """An audio frame of silence, for feeding `FakeSTT.recognize`."""
    samples = int(seconds * sample_rate)
    return rtc.AudioFrame(bytes(samples * 2), sample_rate=sample_rate, num_channels=1, samples_per_channel=samples)


# Meetings (the note-taker, `agent_pool.meeting`) ---------------------------------------------------


@dataclass(frozen=True)
class Heard:
    """One thing a participant's STT hears: the words, their language, when (seconds from the start of that
    participant's audio) and, on a diarized hall microphone, who of the people at it said them."""

    text: str
    language: str
    start: float
    end: float
    speaker: str | None = None


class MeetingSTT(stt.STT):
    """A streaming STT that hears what a test queues (`hear`), as Deepgram's live socket reports it: start of
    speech, an interim result, the final one (with the speaker when diarized), end of speech."""

    def __init__(self, *, language: str = "en", diarize: bool = False) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=True, diarization=diarize))
        self.language = language
        self.diarize = diarize
        self._heard: asyncio.Queue[Heard] = asyncio.Queue()
        self.streams = 0

    @property
    def model(self) -> str:
        return "scripted-meeting"

    @property
    def provider(self) -> str:
        return "agent_pool.testing"

    def hear(self, *lines: Heard) -> None:
        for line in lines:
            self._heard.put_nowait(line)

    async def _recognize_impl(
        self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        raise NotImplementedError("MeetingSTT streams")

    def stream(
        self, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> stt.RecognizeStream:
        self.streams += 1
        return _MeetingStream(stt=self, conn_options=conn_options)


class _MeetingStream(stt.RecognizeStream):
    async def _run(self) -> None:
        owner = self._stt
        assert isinstance(owner, MeetingSTT)

        async def swallow_audio() -> None:
            async for _ in self._input_ch:
                pass

        audio = asyncio.create_task(swallow_audio())
        try:
            while True:
                line = await owner._heard.get()
                data = stt.SpeechData(
                    language=line.language,  # type: ignore[arg-type]
                    text=line.text,
                    start_time=line.start,
                    end_time=line.end,
                    confidence=0.95,
                    speaker_id=line.speaker if owner.diarize else None,
                )
                words = line.text.split()
                interim = stt.SpeechData(
                    language=line.language,  # type: ignore[arg-type]
                    text=" ".join(words[: max(1, len(words) // 2)]),
                    start_time=line.start,
                    end_time=(line.start + line.end) / 2,
                )
                send = self._event_ch.send_nowait
                send(stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH))
                send(stt.SpeechEvent(type=stt.SpeechEventType.INTERIM_TRANSCRIPT, alternatives=[interim]))
                send(stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[data]))
                send(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH))
        finally:
            await utils.aio.cancel_and_wait(audio)


class SilentMicrophone(session_io.AudioInput):
    """A participant's microphone in a room that is not there: silence, at real-time pace."""

    FRAME_S = 0.05

    def __init__(self, identity: str, sample_rate: int = 16_000) -> None:
        super().__init__(label=f"Microphone {identity}")
        self._samples = int(sample_rate * self.FRAME_S)
        self._sample_rate = sample_rate

    async def __anext__(self) -> rtc.AudioFrame:
        await asyncio.sleep(self.FRAME_S)
        return rtc.AudioFrame(
            bytes(self._samples * 2), sample_rate=self._sample_rate, num_channels=1, samples_per_channel=self._samples
        )


class CapturedAudio(session_io.AudioOutput):
    """What the room would hear from the note-taker: each utterance's frames kept, "played" at once."""

    def __init__(self) -> None:
        super().__init__(label="CapturedAudio", capabilities=session_io.AudioOutputCapabilities(pause=False))
        self.seconds = 0.0
        self._playing = 0.0
        self._started = False

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._started:
            self._started = True
            self.on_playback_started(created_at=time.time())
        self._playing += frame.duration
        self.seconds += frame.duration

    def flush(self) -> None:
        super().flush()
        played, self._playing, self._started = self._playing, 0.0, False
        self.on_playback_finished(playback_position=played, interrupted=False)

    def clear_buffer(self) -> None:
        played, self._playing, self._started = self._playing, 0.0, False
        self.on_playback_finished(playback_position=played, interrupted=True)


class ScriptedMeetingVoice:
    """`agent_pool.voice.MeetingVoice` for meetings without LiveKit: a `MeetingSTT` per participant (what
    `hear` queues for them), a `FakeTTS` per language (what it `spoke`)."""

    def __init__(self) -> None:
        self.ears: dict[str, MeetingSTT] = {}
        self.voices: dict[str, FakeTTS] = {}
        self._spoken: list[str] = []  # every voice's sentences, in the order they were synthesised

    def stt(self, identity: str, profile: Any, languages: Sequence[str], *, diarize: bool) -> stt.STT:
        ears = self.ears[identity] = MeetingSTT(language=profile.stt.language, diarize=diarize)
        return ears

    def tts(self, profile: Any) -> tts.TTS:
        voice = self.voices[profile.tts.language] = FakeTTS(ms_per_char=5)
        voice.spoken = self._spoken
        return voice

    def hear(self, identity: str, *lines: Heard) -> None:
        self.ears[identity].hear(*lines)

    def spoken(self) -> list[str]:
        return list(self._spoken)
