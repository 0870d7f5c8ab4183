"""A phone call as audio, without a phone: the caller's speech, the ears and the voice as local doubles at
the livekit-agents interfaces (`io.AudioInput`, `io.AudioOutput`, `stt.STT`, `tts.TTS`), for the audio tests
and benchmarks. Product code never imports this module.

- `Caller` is the audio input: speech rendered by espeak-ng (`make speech`) from a script's lines, cached
  under build/speech/, fed as 20 ms 16-bit PCM frames at real-time pace, silence in between. Its frame count
  is the call's clock (`AudioClock`): every bound a test states is in this audio time, which holds on a
  loaded machine where wall-clock time does not.
- `ScriptedSTT` hears what the caller said: for each spoken line, interim results as its audio arrives and
  a final one after its last frame, as Deepgram streams them; a line whose audio never reached it (the
  session dropped it) is never heard.
- `EspeakTTS` speaks with espeak-ng, so the agent's speech is real audio (the real Silero VAD hears it only
  through the caller's side: there is no echo here).
- `HeardAudio` is the audio output: it plays what the agent says in audio time (pausable, as a room's
  track is) and records each frame with the time the caller heard it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import shutil
import subprocess
import time
import wave
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import stt, tts, utils, vad
from livekit.agents.testing import fake_job_context
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.voice import io as session_io

from agent_pool.call import CallIO, CallRequest, CallRun, start_call
from agent_pool.settings import WorkerSettings, get_worker_settings
from mla_core.adapters import Services
from mla_core.agents.config import AgentConfig, LanguageProfile, LlmSettings

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.02
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)
SPEECH_CACHE = Path(__file__).resolve().parent.parent / "build" / "speech"
# espeak-ng's voice for each of our languages.
ESPEAK_VOICES = {"ta": "ta", "hi": "hi", "en": "en-us"}
ESPEAK = "espeak-ng"


class SpeechUnavailableError(RuntimeError):
    """espeak-ng is not installed (`make speech`)."""


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def speech(text: str, language: str, *, words_per_minute: int = 175) -> bytes:
    """`text` spoken by espeak-ng in `language`: 16 kHz mono 16-bit PCM, rendered once and cached."""
    voice = ESPEAK_VOICES.get(language, language)
    key = hashlib.sha256(f"trimmed\n{voice}\n{words_per_minute}\n{text}".encode()).hexdigest()[:32]
    cached = SPEECH_CACHE / f"{key}.wav"
    if cached.exists():
        return _pcm_of(cached.read_bytes())
    if not espeak_available():
        raise SpeechUnavailableError("espeak-ng is not installed: run `make speech`")
    rendered = subprocess.run(  # noqa: S603 - espeak-ng with our own arguments, the text as one argv item
        [ESPEAK, "-v", voice, "-s", str(words_per_minute), "--stdout", text], capture_output=True, check=True
    ).stdout
    pcm = _trimmed(_resampled(rendered))
    SPEECH_CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{time.monotonic_ns()}.part")
    partial.write_bytes(wav_bytes(pcm))
    partial.replace(cached)  # whole files only: tests may render the same line at once
    return pcm


def _pcm_of(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.readframes(reader.getnframes())


def _resampled(wav: bytes) -> bytes:
    """espeak-ng writes 22,050 Hz: resampled to the 16 kHz of a phone call's audio."""
    with wave.open(io.BytesIO(wav)) as reader:
        rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    if rate == SAMPLE_RATE:
        return pcm
    resampler = rtc.AudioResampler(rate, SAMPLE_RATE, num_channels=1, quality=rtc.AudioResamplerQuality.HIGH)
    frame = rtc.AudioFrame(pcm, sample_rate=rate, num_channels=1, samples_per_channel=len(pcm) // 2)
    out = [bytes(f.data) for f in resampler.push(frame)] + [bytes(f.data) for f in resampler.flush()]
    return b"".join(out)


def _trimmed(pcm: bytes, *, threshold: int = 300) -> bytes:
    """Without espeak-ng's leading and trailing silence, so a line's `Utterance` spans its speech: a test
    placing the caller's pauses and measuring from the end of their speech means the voice, not the file."""
    samples = memoryview(pcm).cast("h")
    loud = [i for i in range(0, len(samples), 80) if max(abs(v) for v in samples[i : i + 80]) > threshold]
    if not loud:
        return pcm
    start, end = loud[0], min(len(samples), loud[-1] + 80)
    return pcm[start * 2 : end * 2]


def wav_bytes(pcm: bytes, *, sample_rate: int = SAMPLE_RATE, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


def _frame(pcm: bytes) -> rtc.AudioFrame:
    return rtc.AudioFrame(pcm, sample_rate=SAMPLE_RATE, num_channels=1, samples_per_channel=len(pcm) // 2)


class AudioClock:
    """The call's audio time: seconds of audio the caller has sent since the call was answered."""

    def __init__(self) -> None:
        self.now = 0.0
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [waiter for waiter in self._waiters if waiter[0] <= self.now + 1e-9]
        self._waiters = [waiter for waiter in self._waiters if waiter[0] > self.now + 1e-9]
        for _, future in due:
            if not future.done():
                future.set_result(None)

    async def wait_until(self, moment: float) -> None:
        if moment <= self.now + 1e-9:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((moment, future))
        await future

    async def wait(self, seconds: float) -> None:
        await self.wait_until(self.now + seconds)


@dataclass(frozen=True)
class Pause:
    """Silence inside a caller's line (an elderly caller thinking mid-sentence)."""

    seconds: float


@dataclass
class Utterance:
    """One stretch of the caller's speech on the audio timeline, and what the STT should make of it."""

    text: str
    language: str
    start: float
    end: float
    final_text: str | None = None  # when the final result says otherwise than the interim ones


class Caller(session_io.AudioInput):
    """The caller's side of the line: silence, and the lines a test has them say, at real-time pace.

    Frames carry their audio time in `userdata["audio_time"]` (their end) so the STT double can tell
    which words it heard.
    """

    def __init__(self, clock: AudioClock, *, words_per_minute: int = 175) -> None:
        super().__init__(label="Caller")
        self.clock = clock
        self.utterances: list[Utterance] = []
        self._words_per_minute = words_per_minute
        self._pending = bytearray()
        self._pending_end = 0.0  # audio time at which what is queued has been said
        self._frames: utils.aio.Chan[rtc.AudioFrame] = utils.aio.Chan()
        self._feeder: asyncio.Task[None] | None = None

    def answer(self) -> None:
        """The call is answered: audio time 0 is now, and the line carries audio from here on."""
        if self._feeder is None:
            self._feeder = asyncio.ensure_future(self._feed())

    async def hang_up(self) -> None:
        if self._feeder is not None:
            self._feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feeder
        self._frames.close()

    def say(
        self,
        *parts: str | Pause,
        language: str = "en",
        words_per_minute: int | None = None,
        heard_as: str | None = None,
        final_as: str | None = None,
    ) -> Utterance:
        """Queue a line (text and pauses) to be spoken from the next frame; returns its last stretch of speech
        (`end` is when the caller stops). `words_per_minute` for a slow (or a drawn-out) line; `heard_as`
        for what the STT makes of it when that is not the words ("" for a cough: sound, no words);
        `final_as` when its final result differs from the interim ones (voices in the background that
        Deepgram guesses at while they last, then finalises as nothing: "")."""
        start = max(self.clock.now, self._pending_end)
        last: Utterance | None = None
        for part in parts:
            if isinstance(part, Pause):
                pcm = bytes(int(part.seconds * SAMPLE_RATE) * 2)
            else:
                pcm = speech(part, language, words_per_minute=words_per_minute or self._words_per_minute)
                text = part if heard_as is None else heard_as
                last = Utterance(text, language, start, start + len(pcm) / 2 / SAMPLE_RATE, final_as)
                self.utterances.append(last)
            self._pending.extend(pcm)
            start += len(pcm) / 2 / SAMPLE_RATE
        self._pending_end = start
        if last is None:
            raise ValueError("a line says something")
        return last

    async def _feed(self) -> None:
        started = time.perf_counter()
        sent = 0
        while True:
            due = started + sent * FRAME_SECONDS
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            chunk = bytes(self._pending[: FRAME_SAMPLES * 2])
            del self._pending[: FRAME_SAMPLES * 2]
            chunk += bytes(FRAME_SAMPLES * 2 - len(chunk))
            sent += 1
            frame = _frame(chunk)
            frame.userdata["audio_time"] = sent * FRAME_SECONDS
            self.clock.advance(FRAME_SECONDS)
            self._frames.send_nowait(frame)

    async def __anext__(self) -> rtc.AudioFrame:
        return await self._frames.__anext__()


class ScriptedSTT(stt.STT):
    """A streaming STT that transcribes the caller's lines by the audio it receives: interim results every
    `interim_every` seconds of a line's audio, the final `final_delay` after its last frame."""

    def __init__(
        self, caller: Caller, *, language: str = "en", interim_every: float = 0.3, final_delay: float = 0.15
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=True))
        self.caller = caller
        self.language = language
        self.interim_every = interim_every
        self.final_delay = final_delay

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def provider(self) -> str:
        return "agent_pool.testing_audio"

    async def _recognize_impl(
        self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        raise NotImplementedError("ScriptedSTT streams")

    def stream(
        self, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> stt.RecognizeStream:
        return _ScriptedStream(stt=self, conn_options=conn_options)


@dataclass
class _Hearing:
    heard_until: float = 0.0
    interims: int = 0
    final: bool = False


class _ScriptedStream(stt.RecognizeStream):
    async def _run(self) -> None:
        owner = self._stt
        assert isinstance(owner, ScriptedSTT)
        hearing: dict[int, _Hearing] = {}
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                continue
            end = float(item.userdata.get("audio_time", owner.caller.clock.now))
            start = end - item.duration
            for index, utterance in enumerate(owner.caller.utterances):
                if not utterance.text:  # a sound with no words in it
                    continue
                state = hearing.setdefault(index, _Hearing())
                if state.final:
                    continue
                if start < utterance.end and end > utterance.start:  # this frame carries some of the line
                    state.heard_until = min(end, utterance.end)
                if state.heard_until == 0.0:
                    continue
                if end >= utterance.end + owner.final_delay:
                    state.final = True
                    final = utterance.text if utterance.final_text is None else utterance.final_text
                    self._send(stt.SpeechEventType.FINAL_TRANSCRIPT, final, utterance, owner.language)
                    continue
                spoken = state.heard_until - utterance.start
                if spoken >= (state.interims + 1) * owner.interim_every:
                    state.interims += 1
                    words = utterance.text.split()
                    count = max(1, round(len(words) * spoken / (utterance.end - utterance.start)))
                    self._send(
                        stt.SpeechEventType.INTERIM_TRANSCRIPT, " ".join(words[:count]), utterance, owner.language
                    )

    def _send(self, kind: stt.SpeechEventType, text: str, utterance: Utterance, language: str) -> None:
        data = stt.SpeechData(
            language=language,  # type: ignore[arg-type]
            text=text,
            start_time=utterance.start,
            end_time=utterance.end,
            confidence=0.99,
        )
        self._event_ch.send_nowait(stt.SpeechEvent(type=kind, alternatives=[data]))


class EspeakTTS(tts.TTS):
    """The agent's voice: espeak-ng in the profile's language, 16 kHz mono, cached like the caller's."""

    def __init__(self, language: str = "en", *, words_per_minute: int = 200) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=SAMPLE_RATE, num_channels=1)
        self.language = language
        self.words_per_minute = words_per_minute
        self.spoken: list[str] = []

    @property
    def model(self) -> str:
        return "espeak-ng"

    @property
    def provider(self) -> str:
        return "agent_pool.testing_audio"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        self.spoken.append(text)
        return _EspeakStream(tts=self, input_text=text, conn_options=conn_options)


class _EspeakStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner = self._tts
        assert isinstance(owner, EspeakTTS)
        pcm = await asyncio.to_thread(speech, self.input_text, owner.language, words_per_minute=owner.words_per_minute)
        output_emitter.initialize(
            request_id=utils.shortuuid("espeak_"), sample_rate=SAMPLE_RATE, num_channels=1, mime_type="audio/pcm"
        )
        output_emitter.push(pcm)
        output_emitter.flush()


class EspeakVoiceStack:
    """`agent_pool.voice.VoiceStack` for audio calls: the scripted STT hears the caller, espeak-ng speaks."""

    def __init__(self, caller: Caller, *, words_per_minute: int = 200) -> None:
        self.caller = caller
        self.words_per_minute = words_per_minute
        self.voices: list[EspeakTTS] = []

    def stt(self, profile: LanguageProfile, config: AgentConfig) -> stt.STT:
        return ScriptedSTT(self.caller, language=profile.stt.language)

    def tts(self, profile: LanguageProfile) -> tts.TTS:
        voice = EspeakTTS(profile.tts.language, words_per_minute=self.words_per_minute)
        self.voices.append(voice)
        return voice


@dataclass
class HeardFrame:
    at: float  # audio time the caller started hearing it
    duration: float
    segment: int
    pcm: bytes = field(repr=False)


@dataclass
class Segment:
    """One of the agent's utterances as played (what `flush()` or `clear_buffer()` ends)."""

    index: int
    frames: list[rtc.AudioFrame] = field(default_factory=list)
    captured: float = 0.0  # seconds of audio the agent sent for it
    flushed: bool = False
    started_at: float | None = None
    ended_at: float | None = None
    played: float = 0.0
    interrupted: bool = False


class HeardAudio(session_io.AudioOutput):
    """What the caller hears: the agent's frames played in audio time, each recorded with the moment it was
    heard. Pausable like a room's audio track, so false-interruption handling works as in production."""

    def __init__(self, clock: AudioClock) -> None:
        super().__init__(
            label="HeardAudio", capabilities=session_io.AudioOutputCapabilities(pause=True), sample_rate=SAMPLE_RATE
        )
        self.clock = clock
        self.heard: list[HeardFrame] = []
        self.segments: list[Segment] = []
        self.pauses: list[tuple[float, float | None]] = []
        self._queue: list[Segment] = []
        self._wake = asyncio.Event()
        self._paused = False
        self._discarding = False  # cleared mid-segment: its remaining frames are dropped until flush()
        self._player: asyncio.Task[None] | None = None

    @property
    def first_heard_at(self) -> float | None:
        return self.heard[0].at if self.heard else None

    async def wait_heard(self, *, after: float = 0.0, within: float = 30.0) -> float:
        """The audio time of the first frame heard at or after `after`; fails when the agent has said
        nothing `within` seconds (audio time) of it."""
        deadline = max(after, self.clock.now) + within
        while self.clock.now <= deadline:
            for frame in self.heard:
                if frame.at >= after:
                    return frame.at
            await self.clock.wait(FRAME_SECONDS)
        raise AssertionError(f"the agent said nothing between {after:.2f} s and {deadline:.2f} s (audio time)")

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._discarding:
            return
        if not self._queue or self._queue[-1].flushed:
            segment = Segment(index=len(self.segments))
            self.segments.append(segment)
            self._queue.append(segment)
        self._queue[-1].frames.append(frame)
        self._queue[-1].captured += frame.duration
        self._start_player()
        self._wake.set()

    def flush(self) -> None:
        super().flush()
        self._discarding = False
        if self._queue and not self._queue[-1].flushed:
            self._queue[-1].flushed = True
            self._wake.set()

    def clear_buffer(self) -> None:
        self._discarding = bool(self._queue) and not self._queue[-1].flushed
        for segment in self._queue:
            segment.interrupted = True
            segment.ended_at = self.clock.now
            self.on_playback_finished(playback_position=segment.played, interrupted=True)
        self._queue.clear()
        self._wake.set()

    def pause(self) -> None:
        if not self._paused:
            self._paused = True
            self.pauses.append((self.clock.now, None))

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self.pauses[-1] = (self.pauses[-1][0], self.clock.now)
            self._wake.set()

    def _start_player(self) -> None:
        if self._player is None or self._player.done():
            self._player = asyncio.ensure_future(self._play())

    async def aclose(self) -> None:
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player

    async def _play(self) -> None:
        while True:
            segment = self._queue[0] if self._queue else None
            if segment is None or self._paused or (not segment.frames and not segment.flushed):
                self._wake.clear()
                await self._wake.wait()
                continue
            if not segment.frames:  # flushed and all played
                self._queue.pop(0)
                segment.ended_at = self.clock.now
                self.on_playback_finished(playback_position=segment.played, interrupted=False)
                continue
            frame = segment.frames.pop(0)
            at = self.clock.now
            if segment.started_at is None:
                segment.started_at = at
                self.on_playback_started(created_at=time.time())
            self.heard.append(HeardFrame(at, frame.duration, segment.index, bytes(frame.data)))
            segment.played += frame.duration
            await self.clock.wait_until(at + frame.duration)


@dataclass
class AudioCall:
    """A call in progress as audio: the run (`agent_pool.call`), the caller's line and what they heard."""

    run: CallRun
    caller: Caller
    heard: HeardAudio
    clock: AudioClock
    answered_at: float


@contextlib.asynccontextmanager
async def audio_call(
    services: Services,
    llm_factory: Callable[[LlmSettings], Any],
    vad_model: vad.VAD,
    *,
    dialed_number: str | None,
    caller_number: str | None,
    room_name: str,
    settings: WorkerSettings | None = None,
    words_per_minute: int = 200,
) -> AsyncIterator[AudioCall]:
    """`agent_pool.call.start_call` with audio in and out: the worker's turn handling and VAD, the caller
    doubles above. Yields as soon as the call is answered (audio time 0): the greeting is still to come."""
    clock = AudioClock()
    caller = Caller(clock)
    heard = HeardAudio(clock)
    io_ = CallIO(
        llm_factory=llm_factory,
        voice=EspeakVoiceStack(caller, words_per_minute=words_per_minute),
        vad=vad_model,
        audio_input=caller,
        audio_output=heard,
        settings=settings or get_worker_settings(),
    )
    request = CallRequest(room_name=room_name, dialed_number=dialed_number, caller_number=caller_number)
    with fake_job_context(job_id=f"audio-{room_name}"):
        caller.answer()
        answered_at = clock.now
        run = await start_call(request, services, io_)
        try:
            yield AudioCall(run=run, caller=caller, heard=heard, clock=clock, answered_at=answered_at)
        finally:
            await run.finish()
            await heard.aclose()
            await caller.hang_up()


def agent_speech(segments: Sequence[Segment]) -> list[tuple[float | None, float | None, bool]]:
    """(start, end, interrupted) of each of the agent's utterances, for assertion messages."""
    return [(s.started_at, s.ended_at, s.interrupted) for s in segments]
