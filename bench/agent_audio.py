"""Calls as audio: our share of each turn, and how many audio calls one worker carries (issue 16).

1. **Our share of each turn**: end of the caller's speech → the first frame of the agent's reply, with
   zero-latency doubles (the STT's final on the line's last frame, an LLM answering at once, a TTS handing
   back pre-rendered audio at once), through `agent_pool.call.start_call` (tenant resolution, config,
   tools, the `GrievanceAgent`) and, side by side in the same process, a bare `AgentSession` with the same
   doubles, the same Silero VAD instance, the same `agent_pool.voice.turn_handling(get_worker_settings())`
   and a one-line `Agent`. The endpointing delay is in both; the difference is ours. Audio time (frame
   timestamps, `AudioClock`) and wall time.
2. **Capacity per worker**: N concurrent audio calls (real Silero VAD on every frame, the session, our
   agent, checkpoints to Postgres) in livekit-agents' own `AgentServer`, run unregistered with fake jobs
   (no LiveKit server), the worker's `prewarm` and preloads, two ways: the thread executor (N calls in one
   process) and the process executor (LiveKit's default: a forkserver and one job process per call). CPU
   per call (the worker's processes' CPU time / wall time / N), memory per call (USS, summed over the
   processes, less the idle worker), and whether audio keeps real-time pace (audio time vs wall time, the
   caller's frame lateness, the reply latency under load). Audio is rendered once (espeak-ng) before.

Not in these figures: WebRTC (Opus decoding and encoding, the room's resampling) and the STT/TTS/LLM
websockets of a real call, which a phone call adds on top of the pipeline measured here.
Run: `.venv/bin/python -m bench.agent_audio [--turns 20] [--calls 5 10 20] [--window 15] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from livekit import rtc
from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobExecutorType, stt, tts, utils, vad
from livekit.agents.testing import fake_job_context
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from agent_pool.call import CallIO, CallRequest, start_call
from agent_pool.settings import get_worker_settings
from agent_pool.testing import Say, ScriptedLLM
from agent_pool.testing_audio import (
    SAMPLE_RATE,
    AudioClock,
    Caller,
    HeardAudio,
    ScriptedSTT,
    SpeechUnavailableError,
    speech,
)
from agent_pool.voice import turn_handling
from bench.agent_stack import create_tenants, local_stack, percentile
from mla_core.adapters import Services, get_services
from mla_core.agents.config import AgentConfig, LanguageProfile

# The caller's lines: each a finished sentence, so the turn ends at the endpointing `min_delay`.
LINES = (
    "My water supply has stopped.",
    "The street light is broken.",
    "There is garbage on the road.",
    "The drain near my house is blocked.",
)
# What the agent says, whatever it was asked: one short sentence, rendered once.
REPLY = "I have noted that."
REPLY_WITHIN = 6.0  # audio seconds after the caller stops: a reply later than this counts as missed
LIVEKIT_CORES_PER_CALL = 4 / 25
LIVEKIT_MB_PER_CALL = 8 * 1024 / 25
GOAL_TURN_MS = 50.0
GOAL_CORES = 0.05
GOAL_MB = 100.0
# Real-time pace: the caller's frames go out at most this late (p99), audio time keeps up with wall time.
PACE_LATENESS_MS = 50.0
PACE_RATIO = 0.99
POD_CORES, POD_MB = 4, 8 * 1024
_ENV_OUT, _ENV_DIALED = "BENCH_AUDIO_OUT", "BENCH_AUDIO_DIALED"


# The doubles -------------------------------------------------------------------------------------


class TimedClock(AudioClock):
    """The call's audio clock, with the wall time (perf_counter and epoch) of every frame the caller sent."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[tuple[float, float, float]] = []  # (audio time after the frame, perf_counter, epoch)

    def advance(self, seconds: float) -> None:
        self.marks.append((self.now + seconds, time.perf_counter(), time.time()))
        super().advance(seconds)

    def perf_at(self, moment: float) -> float:
        """perf_counter() when the frame carrying audio time `moment` went out."""
        for audio, perf, _ in self.marks:
            if audio >= moment - 1e-9:
                return perf
        return self.marks[-1][1]


class TimedEars(HeardAudio):
    """What the caller hears, with the audio and wall time of each utterance's first frame out of the session."""

    def __init__(self, clock: AudioClock) -> None:
        super().__init__(clock)
        self.first_frame: dict[int, tuple[float, float]] = {}  # segment -> (audio time, perf_counter)

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self.segments and not self._discarding:
            self.first_frame.setdefault(self.segments[-1].index, (self.clock.now, time.perf_counter()))


class CachedTTS(tts.TTS):
    """A TTS with no latency: every sentence is the same pre-rendered clip, handed back at once."""

    def __init__(self, pcm: bytes) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=SAMPLE_RATE, num_channels=1)
        self.pcm = pcm

    @property
    def model(self) -> str:
        return "cached"

    @property
    def provider(self) -> str:
        return "bench.agent_audio"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _CachedStream(tts=self, input_text=text, conn_options=conn_options)


class _CachedStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner = self._tts
        assert isinstance(owner, CachedTTS)
        output_emitter.initialize(
            request_id=utils.shortuuid("cached_"), sample_rate=SAMPLE_RATE, num_channels=1, mime_type="audio/pcm"
        )
        output_emitter.push(owner.pcm)
        output_emitter.flush()


def instant_stt(caller: Caller) -> stt.STT:
    """The scripted STT with its final transcript on the frame that carries the line's last audio."""
    return ScriptedSTT(caller, final_delay=0.0)


class InstantVoiceStack:
    """`agent_pool.voice.VoiceStack` with no latency: the instant STT, the cached TTS."""

    def __init__(self, caller: Caller, pcm: bytes) -> None:
        self.caller = caller
        self.pcm = pcm

    def stt(self, profile: LanguageProfile, config: AgentConfig) -> stt.STT:
        return instant_stt(self.caller)

    def tts(self, profile: LanguageProfile) -> tts.TTS:
        return CachedTTS(self.pcm)


def instant_llm() -> ScriptedLLM:
    return ScriptedLLM([Say(REPLY)] * 1000)


def render() -> bytes:
    """Every line the benchmark speaks, rendered (or read from build/speech/) before anything is timed."""
    for line in LINES:
        speech(line, "en")
    return speech(REPLY, "en", words_per_minute=200)


# One side of a call: the caller's turns -----------------------------------------------------------


@dataclass
class Turn:
    audio_ms: float | None  # the caller's last word → the reply's first frame, audio time; None: no reply
    wall_ms: float | None
    epoch: float  # when the caller stopped


@dataclass
class Line:
    """A call seen from the caller's side: its clock, its ears, the turns so far."""

    clock: TimedClock
    caller: Caller
    ears: TimedEars
    turns: list[Turn] = field(default_factory=list)

    @classmethod
    def new(cls) -> Line:
        clock = TimedClock()
        return cls(clock=clock, caller=Caller(clock), ears=TimedEars(clock))

    async def turn(self, index: int) -> None:
        """The caller says a line; the agent's reply is timed and heard to its end."""
        said = self.caller.say(LINES[index % len(LINES)])
        await self.clock.wait_until(said.end)
        epoch = time.time()
        deadline = said.end + REPLY_WITHIN
        reply: int | None = None
        while reply is None and self.clock.now < deadline:
            reply = next((i for i, (at, _) in self.ears.first_frame.items() if at >= said.start), None)
            if reply is None:
                await self.clock.wait(0.02)
        if reply is None:
            self.turns.append(Turn(None, None, epoch))
            return
        at, perf = self.ears.first_frame[reply]
        self.turns.append(Turn((at - said.end) * 1000, (perf - self.clock.perf_at(said.end)) * 1000, epoch))
        segment = self.ears.segments[reply]
        while segment.ended_at is None and self.clock.now < deadline + 10:
            await self.clock.wait(0.05)
        await self.clock.wait(0.3)

    async def close(self) -> None:
        await self.ears.aclose()
        await self.caller.hang_up()


async def our_call(
    services: Services, vad_model: vad.VAD, pcm: bytes, dialed: str, room: str, turns: int, caller: str | None = None
) -> Line:
    line = Line.new()
    io = CallIO(
        llm_factory=lambda _settings: instant_llm(),
        voice=InstantVoiceStack(line.caller, pcm),
        vad=vad_model,
        audio_input=line.caller,
        audio_output=line.ears,
        settings=get_worker_settings(),
    )
    request = CallRequest(room_name=room, dialed_number=dialed, caller_number=caller or _caller_number())
    with fake_job_context(job_id=f"ours-{room}"):
        line.caller.answer()
        run = await start_call(request, services, io)
        assert not run.rejected, "the bench tenant did not answer"
        await run.wait_greeted()
        for index in range(turns):
            await line.turn(index)
        await run.finish()
    await line.close()
    return line


async def bare_call(vad_model: vad.VAD, pcm: bytes, turns: int) -> Line:
    line = Line.new()
    session: AgentSession[None] = AgentSession(
        llm=instant_llm(),
        stt=instant_stt(line.caller),
        tts=CachedTTS(pcm),
        vad=vad_model,
        turn_handling=turn_handling(get_worker_settings()),
    )
    session.input.audio = line.caller
    session.output.audio = line.ears
    with fake_job_context(job_id=f"bare-{time.time_ns()}"):
        line.caller.answer()
        await session.start(Agent(instructions="You are a helpful assistant."))
        await line.clock.wait(1.0)
        for index in range(turns):
            await line.turn(index)
        await session.aclose()
    await line.close()
    return line


def _caller_number() -> str:
    return f"+9194{random.randrange(10**8):08d}"


# 1. Our share of each turn ------------------------------------------------------------------------


async def turn_share(dialed: str, pcm: bytes, turns: int) -> tuple[Line, Line]:
    """Our call and a bare session at once, in one process: the machine's noise falls on both alike."""
    from agent_pool import plugins

    vad_model = plugins.load_vad()
    services = get_services()
    # Warm up: imports, pools, the tenant's config in Redis, the VAD's first inferences.
    await asyncio.gather(
        our_call(services, vad_model, pcm, dialed, f"warm-{time.time_ns()}", 1), bare_call(vad_model, pcm, 1)
    )
    ours, bare = await asyncio.gather(
        our_call(services, vad_model, pcm, dialed, f"turns-{time.time_ns()}", turns), bare_call(vad_model, pcm, turns)
    )
    return ours, bare


# 2. Capacity per worker: the job (runs in the worker's job process or thread) -----------------------


async def capacity_call(ctx: JobContext) -> None:
    """One audio call in a bench worker's job: greet, then a turn after another until told to stop; write
    what the caller saw over the measured window to `$BENCH_AUDIO_OUT/<room>.json`."""
    out = Path(os.environ[_ENV_OUT])
    room = ctx.job.room.name
    run_id = room.rsplit("-", 1)[0]
    pcm = speech(REPLY, "en", words_per_minute=200)
    line = Line.new()
    io = CallIO(
        llm_factory=lambda _settings: instant_llm(),
        voice=InstantVoiceStack(line.caller, pcm),
        vad=ctx.proc.userdata["vad"],
        audio_input=line.caller,
        audio_output=line.ears,
        settings=get_worker_settings(),
    )
    request = CallRequest(room_name=room, dialed_number=os.environ[_ENV_DIALED], caller_number=_caller_number())
    try:
        line.caller.answer()
        run = await start_call(request, get_services(), io)
        await run.wait_greeted()
        (out / f"{room}.greeted").touch()
        stop = out / f"{run_id}.stop"
        index = 0
        while not stop.exists() and line.clock.now < 600:
            await line.turn(index)
            index += 1
        window = json.loads(stop.read_text())
        await run.finish()
        figures = call_figures(line, window["from"], window["to"])
    except Exception as exc:  # reported by the bench, not lost in a job process's log
        figures = {"error": repr(exc)}
    finally:
        await line.close()
    (out / f"{room}.json").write_text(json.dumps(figures))
    ctx.shutdown("bench call done")


def call_figures(line: Line, start: float, end: float) -> dict[str, Any]:
    """Over the window [start, end] (epoch seconds): audio time per wall time, the caller's frame lateness,
    the turns' latency."""
    marks = line.clock.marks
    paced_from = marks[0][1] - (marks[0][0] - 0.02)  # perf_counter at which the feed started
    inside = [(audio, perf) for audio, perf, epoch in marks if start <= epoch <= end]
    lateness = [max(0.0, (perf - (paced_from + audio - 0.02)) * 1000) for audio, perf in inside]
    pace = (inside[-1][0] - inside[0][0]) / (inside[-1][1] - inside[0][1]) if len(inside) > 1 else 0.0
    turns = [t for t in line.turns if start <= t.epoch <= end]
    return {
        "pace": pace,
        "lateness_ms": lateness,
        "turns_ms": [t.audio_ms for t in turns if t.audio_ms is not None],
        "missed": sum(1 for t in turns if t.audio_ms is None),
    }


# 2. Capacity per worker: the bench's worker ------------------------------------------------------


@dataclass
class Capacity:
    shape: str
    calls: int
    cores_per_call: float
    uss_per_call_mb: float
    fixed_uss_mb: float  # the worker without calls (process: the main process and the forkserver)
    idle_executor_mb: float  # one warm process (or thread) waiting for a call: the price of num_idle_processes
    pace: float  # the slowest call's audio time per wall time
    lateness_p99_ms: float
    lateness_max_ms: float
    turn_p50_ms: float
    turn_p95_ms: float
    turns: int
    missed: int
    errors: list[str]

    @property
    def keeps_pace(self) -> bool:
        return (
            not self.errors
            and self.missed == 0
            and self.pace >= PACE_RATIO
            and self.lateness_p99_ms <= PACE_LATENESS_MS
        )


def _worker_processes(excluded: set[int]) -> list[psutil.Process]:
    me = psutil.Process()
    return [me] + [p for p in me.children(recursive=True) if p.pid not in excluded]


def _cpu_seconds(processes: Iterable[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def _uss_mb(processes: Iterable[psutil.Process]) -> dict[int, float]:
    uss = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            uss[process.pid] = process.memory_full_info().uss / 2**20
    return uss


def _parent(pid: int | None) -> int | None:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).ppid()
    return None


async def _wait_for(paths: Sequence[Path], timeout: float) -> None:
    """Until each path exists, or its call's result does (a call that failed writes its error at once)."""

    def there(path: Path) -> bool:
        return path.exists() or path.with_suffix(".json").exists()

    deadline = time.monotonic() + timeout
    while not all(there(p) for p in paths):
        if time.monotonic() > deadline:
            missing = [p.name for p in paths if not there(p)]
            raise SystemExit(f"bench calls did not get there within {timeout:.0f} s: {missing}")
        await asyncio.sleep(0.2)


async def capacity(shape: str, calls: int, window: float, excluded: set[int]) -> Capacity:
    """`calls` audio calls at once in a bench worker shaped as the production one (`agent_pool.worker`)."""
    from agent_pool import worker
    from bench import agent_audio  # the job's entrypoint by its module name, which a job process imports

    settings = get_worker_settings()
    out = Path(os.environ[_ENV_OUT])
    run_id = f"{shape}-{calls}-{time.time_ns()}"
    idle = _uss_mb(_worker_processes(excluded))
    server = AgentServer(
        job_executor_type=JobExecutorType.THREAD if shape == "thread" else JobExecutorType.PROCESS,
        setup_fnc=worker.prewarm,
        load_threshold=settings.load_threshold,
        job_memory_warn_mb=4096,
        num_idle_processes=calls,  # all warm before the calls arrive, as LiveKit keeps them
        initialize_process_timeout=120,
        port=0,
        # The worker's preloads, and the doubles' modules (this one is imported as the forkserver's main).
        preload_modules=[*worker._PRELOAD, "agent_pool.testing", "agent_pool.testing_audio"],
    )
    server.rtc_session(agent_audio.capacity_call, agent_name="bench-audio")
    started = asyncio.Event()
    server.on("worker_started", started.set)
    running = asyncio.create_task(server.run(devmode=False, unregistered=True))
    try:
        rooms = [f"{run_id}-{index}" for index in range(calls)]
        await asyncio.wait_for(started.wait(), timeout=120)
        pool = server._proc_pool  # livekit-agents says nothing public of how many processes are warm
        deadline = time.monotonic() + 180
        while pool._warmed_proc_queue.qsize() < calls and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        warm = _uss_mb(_worker_processes(excluded))
        warm_pids = {getattr(p, "pid", None) for p in pool.processes} - {None}
        for room in rooms:
            await server.simulate_job(room, fake_job=True)
        await _wait_for([out / f"{room}.greeted" for room in rooms], timeout=120)
        await asyncio.sleep(1.0)  # every call past its greeting and into its turns
        processes = _worker_processes(excluded)
        cpu_before, wall_before, epoch_before = _cpu_seconds(processes), time.perf_counter(), time.time()
        await asyncio.sleep(window)
        processes = _worker_processes(excluded)
        cpu_after, wall_after, epoch_after = _cpu_seconds(processes), time.perf_counter(), time.time()
        during = _uss_mb(processes)
        job_pids = {getattr(p, "pid", None) for p in pool.processes} - {None} if shape == "process" else set()
        (out / f"{run_id}.stop").write_text(json.dumps({"from": epoch_before, "to": epoch_after}))
        await _wait_for([out / f"{room}.json" for room in rooms], timeout=60)
    finally:
        await server.aclose()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running

    cpu = sum(cpu_after.get(pid, 0.0) - cpu_before.get(pid, 0.0) for pid in cpu_after)
    if shape == "process":  # each call's own pages; the forkserver's are the pod's, once
        forkserver = {_parent(pid) for pid in job_pids} - {None}
        fixed = sum(uss for pid, uss in during.items() if pid in forkserver or pid == os.getpid())
        main_growth = during.get(os.getpid(), 0.0) - idle.get(os.getpid(), 0.0)
        per_call = (sum(uss for pid, uss in during.items() if pid in job_pids) + main_growth) / calls
        idle_executor = sum(uss for pid, uss in warm.items() if pid in warm_pids) / calls
    else:
        fixed = sum(idle.values())
        per_call = (sum(during.values()) - fixed) / calls
        idle_executor = (sum(warm.values()) - fixed) / calls
    results = [json.loads((out / f"{room}.json").read_text()) for room in rooms]
    errors = [r["error"] for r in results if "error" in r]
    good = [r for r in results if "error" not in r]
    lateness = [v for r in good for v in r["lateness_ms"]] or [0.0]
    turns = [v for r in good for v in r["turns_ms"]] or [0.0]
    return Capacity(
        shape=shape,
        calls=calls,
        cores_per_call=cpu / (wall_after - wall_before) / calls,
        uss_per_call_mb=per_call,
        fixed_uss_mb=fixed,
        idle_executor_mb=idle_executor,
        pace=min((r["pace"] for r in good), default=0.0),
        lateness_p99_ms=percentile(lateness, 0.99),
        lateness_max_ms=max(lateness),
        turn_p50_ms=statistics.median(turns),
        turn_p95_ms=percentile(turns, 0.95),
        turns=sum(len(r["turns_ms"]) for r in good),
        missed=sum(r["missed"] for r in good),
        errors=errors,
    )


async def vad_alone(pcm: bytes, seconds: float) -> float:
    """Cores per call of Silero VAD alone: the worker's VAD fed `seconds` of a call's audio (the lines and
    silence) as fast as it takes it; CPU seconds (every thread) per second of audio."""
    from agent_pool import plugins

    vad_model = plugins.load_vad()
    audio = b"".join(speech(line, "en") + bytes(SAMPLE_RATE) for line in LINES) + pcm
    frames = [audio[i : i + 640] for i in range(0, len(audio) - 640, 640)]  # 20 ms frames
    count = int(seconds / 0.02)
    stream = vad_model.stream()

    async def drain() -> None:
        async for _event in stream:
            pass

    drained = asyncio.create_task(drain())
    started = time.process_time()
    for index in range(count):
        data = frames[index % len(frames)]
        stream.push_frame(rtc.AudioFrame(data, sample_rate=SAMPLE_RATE, num_channels=1, samples_per_channel=320))
        if index % 50 == 0:
            await asyncio.sleep(0)
    stream.end_input()
    await drained
    return (time.process_time() - started) / (count * 0.02)


# Report -------------------------------------------------------------------------------------------


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), percentile(values, 0.95)


def report_turns(ours: Line, bare: Line) -> None:
    print("1. our share of each turn: caller's last word -> the reply's first frame, zero-latency STT/LLM/TTS")
    detection = turn_handling(get_worker_settings())["turn_detection"]
    name = detection if isinstance(detection, str) else type(detection).__name__
    print(f"   same VAD and turn handling on both sides (turn detection: {name}); the endpointing delay is in both")
    print(f"   {'':24}{'audio p50':>10}{'audio p95':>10}{'wall p50':>10}{'wall p95':>10}{'turns':>7}{'missed':>7}")
    figures = {}
    for name, line in (("ours (start_call)", ours), ("bare AgentSession", bare)):
        audio = [t.audio_ms for t in line.turns if t.audio_ms is not None]
        wall = [t.wall_ms for t in line.turns if t.wall_ms is not None]
        missed = sum(1 for t in line.turns if t.audio_ms is None)
        if not audio:
            print(f"   {name:<24} no replies")
            return
        figures[name] = (_stats(audio), _stats(wall))
        (a50, a95), (w50, w95) = figures[name]
        print(f"   {name:<24}{a50:10.1f}{a95:10.1f}{w50:10.1f}{w95:10.1f}{len(audio):7d}{missed:7d}")
    (oa, ow), (ba, bw) = figures["ours (start_call)"], figures["bare AgentSession"]
    verdict = "within" if oa[1] - ba[1] <= GOAL_TURN_MS else "OVER"
    print(
        f"   ours - bare: audio p50 {oa[0] - ba[0]:+.1f} ms, p95 {oa[1] - ba[1]:+.1f} ms "
        f"({verdict} the {GOAL_TURN_MS:.0f} ms goal at p95); wall p50 {ow[0] - bw[0]:+.1f} ms, "
        f"p95 {ow[1] - bw[1]:+.1f} ms; ratio p50 {oa[0] / ba[0]:.2f}x"
    )


def pod_calls(row: Capacity, load_threshold: float) -> tuple[int, int]:
    """A 4 vCPU / 8 GB pod, linear in calls: by CPU up to the worker's load threshold, by memory (USS)."""
    by_cpu = int(POD_CORES * load_threshold / row.cores_per_call) if row.cores_per_call > 0 else 0
    by_memory = int((POD_MB - row.fixed_uss_mb) / row.uss_per_call_mb) if row.uss_per_call_mb > 0 else 0
    return by_cpu, by_memory


def report_capacity(rows: list[Capacity], vad_cores: float) -> None:
    threshold = get_worker_settings().load_threshold
    cores = psutil.cpu_count() or 1
    print(f"2. capacity per worker: concurrent audio calls on this machine ({cores} cores), pre-rendered audio")
    print(
        f"   LiveKit's guidance: 4 vCPU / 8 GB per 25 calls = {LIVEKIT_CORES_PER_CALL:.2f} cores, "
        f"{LIVEKIT_MB_PER_CALL:.0f} MB per call; goals {GOAL_CORES} cores, {GOAL_MB:.0f} MB"
    )
    print(
        f"   real-time pace: every call's audio time >= {PACE_RATIO} x wall time, caller's frames "
        f"p99 <= {PACE_LATENESS_MS:.0f} ms late, no reply later than {REPLY_WITHIN:.0f} s"
    )
    header = (
        f"   {'executor':<9}{'calls':>6}{'cores/call':>11}{'USS MB/call':>12}{'fixed MB':>9}{'idle MB':>8}{'pace':>7}"
        f"{'late p99':>9}{'late max':>9}{'turn p50':>9}{'turn p95':>9}{'turns':>6}{'missed':>7}  real-time"
    )
    print(header)
    for row in rows:
        print(
            f"   {row.shape:<9}{row.calls:6d}{row.cores_per_call:11.3f}{row.uss_per_call_mb:12.1f}"
            f"{row.fixed_uss_mb:9.0f}{row.idle_executor_mb:8.0f}{row.pace:7.3f}{row.lateness_p99_ms:9.1f}{row.lateness_max_ms:9.1f}"
            f"{row.turn_p50_ms:9.0f}{row.turn_p95_ms:9.0f}{row.turns:6d}{row.missed:7d}  "
            f"{'yes' if row.keeps_pace else 'NO'}"
        )
        for error in row.errors[:3]:
            print(f"      error: {error}")
    print(
        f"   cores/call: the worker's processes' CPU time / wall time / calls; of it, Silero VAD alone "
        f"{vad_cores:.3f} (the worker's VAD fed a call's audio as fast as it takes it)"
    )
    print(
        "   USS MB/call: process: each job process's own pages (+ the main process's growth); thread: the "
        "process's growth / calls. fixed: the forkserver and the main process (here the bench's, which also "
        "ran part 1) or the idle process; idle MB: one warm process (or thread) waiting for a call"
    )
    print(f"   a 4 vCPU / 8 GB pod, linear in calls (CPU up to load_threshold {threshold}; memory: 8 GB less fixed):")
    for shape in dict.fromkeys(row.shape for row in rows):
        measured = [row for row in rows if row.shape == shape]
        paced = [row for row in measured if row.keeps_pace]
        basis = max(paced or measured, key=lambda row: row.calls)
        by_cpu, by_memory = pod_calls(basis, threshold)
        largest = f"{basis.calls} calls keep pace here" if paced else "no measured count kept pace here"
        line = f"   {shape:<9}{largest}; from its figures: {by_cpu} calls by CPU, {by_memory} by memory"
        if shape == "thread":
            ceiling = basis.calls if paced else 0
            failed = [row.calls for row in measured if not row.keeps_pace and row.calls > ceiling]
            if failed:  # one interpreter lock: more cores do not help one process
                print(
                    f"{line}; but one process fell behind at {min(failed)} calls "
                    f"({min(failed) * basis.cores_per_call:.1f} cores): a thread-mode worker carries <= {ceiling} "
                    f"whatever the pod's cores, {POD_CORES} such workers per pod "
                    f"-> {min(by_cpu, by_memory, POD_CORES * ceiling)}"
                )
                continue
        print(f"{line} -> {min(by_cpu, by_memory)} per pod (LiveKit's rule: 25)")
    print("   WebRTC (Opus, resampling) and the STT/TTS/LLM websockets of a real call come on top of the CPU figure")


def _progress(started: float, what: str) -> None:
    print(f"[{time.perf_counter() - started:5.0f} s] {what}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--turns", type=int, default=20, help="turns per side for our share of a turn")
    parser.add_argument("--calls", type=int, nargs="+", default=[5, 10, 20], help="concurrent calls per worker")
    parser.add_argument("--window", type=float, default=15.0, help="seconds of calls measured at each count")
    parser.add_argument("--executors", nargs="+", choices=["thread", "process"], default=["thread", "process"])
    parser.add_argument("--quick", action="store_true", help="a short sanity run: 3 turns, 2 calls, 4 s")
    args = parser.parse_args()
    if args.quick:
        args.turns, args.calls, args.window = 3, [2], 4.0
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("livekit").setLevel(logging.CRITICAL)
    try:
        pcm = render()
    except SpeechUnavailableError as exc:
        raise SystemExit(f"bench.agent_audio: {exc}") from exc
    started = time.perf_counter()
    with local_stack() as env:
        excluded = {p.pid for p in psutil.Process().children(recursive=True)}  # the local stack, not the worker
        [tenant] = create_tenants(env, 1, ["en"])
        dialed = str(tenant["phone_numbers"][0])  # type: ignore[index]
        # Read by the jobs: threads here, or processes forked from a forkserver started with this environment.
        os.environ[_ENV_DIALED] = dialed
        os.environ[_ENV_OUT] = tempfile.mkdtemp(prefix="agent-audio-")
        ours, bare = asyncio.run(turn_share(dialed, pcm, args.turns))
        _progress(started, f"our share of a turn: {args.turns} turns a side")
        vad_cores = asyncio.run(vad_alone(pcm, 5.0 if args.quick else 60.0))
        rows = []
        for shape in args.executors:
            for count in args.calls:
                rows.append(asyncio.run(capacity(shape, count, args.window, excluded)))
                _progress(started, f"{shape} executor, {count} calls")
    report_turns(ours, bare)
    report_capacity(rows, vad_cores)
    print(f"   ({time.perf_counter() - started:.0f} s; numbers from a machine other work shares are noisy)")


if __name__ == "__main__":
    main()
