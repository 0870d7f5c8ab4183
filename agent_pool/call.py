"""One call, from answer to call record: the code path the worker, the simulator, the tests and the
benchmarks all run.

`start_call` resolves the tenant, reads what the office remembers of the caller (caller memory), builds
the session and greets; `CallRun.finish` records the call once the session is over and queues what the
caller said for memory extraction. Until then the record so far is checkpointed after the greeting and
each turn, so a worker killed mid-call still leaves the transcript and the notice time. Only `CallIO` differs between a phone call (a LiveKit room, the
voice stack) and text mode (no room, no audio, a scripted or real LLM).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from livekit import rtc
from livekit.agents import Agent, AgentSession, llm, room_io, vad
from livekit.agents.testing import fake_job_context
from livekit.agents.voice import io as session_io
from livekit.agents.voice.events import CloseEvent
from livekit.agents.voice.speech_handle import SpeechHandle

from agent_pool import phrases
from agent_pool.agent import CallContext, GrievanceAgent
from agent_pool.settings import WorkerSettings, get_worker_settings
from agent_pool.voice import VoiceStack, language_profile, turn_handling
from mla_core.adapters import Services
from mla_core.agents.config import (
    DEFAULT_VOICES,
    AgentConfig,
    LanguageProfile,
    LlmSettings,
    SttSettings,
    TtsSettings,
    split_closing_question,
    spoken_greeting,
    without_memory_notice,
)
from mla_core.agents.routing import CallTenant, resolve_call_tenant, tenant_id_from_job
from mla_core.calls import records
from mla_core.calls.records import CallRecord
from mla_core.complaints import intake
from mla_core.core import regions
from mla_core.core.errors import AppError
from mla_core.core.fields import sip_number
from mla_core.core.names import stored_room_name
from mla_core.core.privacy import mask_phone
from mla_core.live import events
from mla_core.memory import jobs, memories
from mla_core.memory.models import CallerMemory

logger = logging.getLogger(__name__)

Outcome = Literal["complaint_logged", "status_checked", "no_complaint", "rejected", "failed"]


def _apology_profile(language: str) -> LanguageProfile:
    """The voice of an apology whose first language is `language` (sonic-3 reads the English half too)."""
    return LanguageProfile(
        greeting="",
        stt=SttSettings(language=language),
        tts=TtsSettings(voice=DEFAULT_VOICES[language], language=language),
    )


@dataclass(frozen=True)
class CallRequest:
    """What LiveKit tells us about a call: the room, the dispatch metadata, the two numbers.

    `room_name` is the room as we store and log it (`core.names.stored_room_name`: a SIP room's name
    without the caller's number), the name the webhooks give the same call; the real room stays with
    the LiveKit job.
    """

    room_name: str
    job_metadata: str = ""
    dialed_number: str | None = None
    caller_number: str | None = None  # None: the caller hid their number

    def __post_init__(self) -> None:
        object.__setattr__(self, "room_name", stored_room_name(self.room_name))

    @classmethod
    def from_sip(cls, room_name: str, job_metadata: str, attributes: Mapping[str, str]) -> CallRequest:
        """The call as the SIP participant's attributes tell it, each number in ASCII digits (as the
        webhook records it) or None when there is none, or none that is a number."""
        return cls(
            room_name=room_name,
            job_metadata=job_metadata,
            dialed_number=sip_number(attributes.get("sip.trunkPhoneNumber")),
            caller_number=sip_number(attributes.get("sip.phoneNumber")),
        )


@dataclass
class CallIO:
    """How a call is heard and spoken: a room and the voice stack, or neither (text mode)."""

    llm_factory: Callable[[LlmSettings], llm.LLM]
    voice: VoiceStack | None = None
    vad: vad.VAD | None = None
    room: rtc.Room | None = None
    room_options: room_io.RoomOptions | None = None
    settings: WorkerSettings = field(default_factory=get_worker_settings)
    # Audio without a room (the audio tests and benchmarks, `agent_pool.testing_audio`): what the
    # caller says and what they hear, attached before the session starts so the greeting is heard.
    audio_input: session_io.AudioInput | None = None
    audio_output: session_io.AudioOutput | None = None

    @property
    def text_mode(self) -> bool:
        return self.voice is None


@dataclass
class CallTimings:
    """perf_counter() marks of the setup, for the call record and the setup benchmark."""

    setup_started: float
    tenant_resolved: float = 0.0
    memory_loaded: float = 0.0  # the caller's memory read (or given up on); the resolution's mark when hidden
    greeting_requested: float = 0.0

    @property
    def resolution_ms(self) -> float:
        return (self.tenant_resolved - self.setup_started) * 1000

    @property
    def memory_ms(self) -> float:
        """Tenant resolved → caller memory read: its share of the time to the first word (0 when none was read)."""
        return (self.memory_loaded - self.tenant_resolved) * 1000 if self.memory_loaded else 0.0

    @property
    def setup_ms(self) -> float:
        """Our code's share of the time to the first word: setup start → greeting requested."""
        return (self.greeting_requested - self.setup_started) * 1000


@dataclass
class CallRun:
    """A call in progress (or rejected); `finish()` ends it and writes the call record once."""

    request: CallRequest
    session: AgentSession
    timings: CallTimings
    started_at: datetime
    call: CallContext | None  # None: no active tenant owns the number
    outcome: Outcome | None = None
    close_event: CloseEvent | None = None
    opening: list[SpeechHandle] = field(default_factory=list)  # the greeting and what follows it
    _closed: asyncio.Event = field(default_factory=asyncio.Event)
    _finished: asyncio.Task[Outcome] | None = None
    _checkpoint: asyncio.Task[None] | None = None
    _checkpoint_again: bool = False
    _announced: bool = False  # the call's first checkpoint was told to the office's open pages

    def __post_init__(self) -> None:
        def closed(event: CloseEvent) -> None:
            self.close_event = event
            self._closed.set()

        self.session.on("close", closed)
        if self.call is not None:
            self.session.on("conversation_item_added", lambda _event: self.checkpoint())
            self.session.on("function_tools_executed", lambda _event: self.checkpoint())

    @property
    def rejected(self) -> bool:
        return self.call is None

    async def wait_greeted(self) -> None:
        """Wait until the opening (greeting, recording notice, open complaints) has been said."""
        for speech in self.opening:
            await speech.wait_for_playout()

    async def wait_closed(self, timeout: float) -> bool:
        """Wait for the session to end (e.g. after end_call's goodbye); False if it is still open."""
        try:
            await asyncio.wait_for(self._closed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def checkpoint(self) -> None:
        """Store the record so far in the background; returns at once and never raises. One write is
        in flight at a time: turns that end meanwhile are taken by one more write after it."""
        if self.call is None or self._finished is not None:
            return
        if self._checkpoint is not None and not self._checkpoint.done():
            self._checkpoint_again = True
            return
        self._checkpoint = asyncio.ensure_future(self._store_checkpoints(self.call))

    async def wait_checkpointed(self) -> None:
        """Wait for the checkpoint in flight, if any (tests: what a worker killed now would leave)."""
        while self._checkpoint is not None and not self._checkpoint.done():
            await asyncio.shield(self._checkpoint)

    async def _store_checkpoints(self, call: CallContext) -> None:
        while True:
            self._checkpoint_again = False
            record = self._record(call, outcome=None)  # read on the loop, which is changing the history
            try:
                await asyncio.to_thread(records.store_call_checkpoint, call.services, call.tenant.tenant_id, record)
                if not self._announced:  # the office's "calls now" learns the call's language (in the background)
                    self._announced = True
                    events.office_changed(
                        call.services, call.tenant.tenant_id, "call.started", call_id=record.room_name
                    )
            except AppError as exc:  # Postgres down: the final record still has the queue
                logger.warning(
                    "call checkpoint skipped",
                    extra={"tenant_id": record.tenant_id, "room": record.room_name, "error": exc.message},
                )
            except Exception:
                logger.exception(
                    "call checkpoint failed", extra={"tenant_id": record.tenant_id, "room": record.room_name}
                )
            if not self._checkpoint_again or self._finished is not None:
                return

    def _record(self, call: CallContext, *, outcome: Outcome | None) -> CallRecord:
        return _record(
            self.request,
            call.tenant.tenant_id,
            self.started_at,
            language=call.language,
            outcome=outcome,
            transcript=transcript_of(self.session.history),
            latency=latency_of(self.session.history, self.timings),
            notice_played_at=call.notice_played_at,
        )

    async def finish(self) -> Outcome:
        """Close the session if it is still open and record the call; safe to call more than once."""
        if self._finished is None:
            self._finished = asyncio.ensure_future(self._finish())
        return await asyncio.shield(self._finished)

    async def _finish(self) -> Outcome:
        await self.session.aclose()
        if self.call is None:
            self.outcome = "rejected"
            return self.outcome
        call = self.call
        self.outcome = _outcome(call, self.close_event)
        # A checkpoint still in flight cannot overwrite this record (store_call_checkpoint's guard).
        await _keep_record(call.services, self._record(call, outcome=self.outcome))
        if call.caller_number is not None and not call.forgotten and _caller_spoke(self.session.history):
            await _queue_memory_extraction(call)
        logger.info(
            "call ended",
            extra={
                "tenant_id": call.tenant.tenant_id,
                "room": self.request.room_name,
                "outcome": self.outcome,
                "complaints": [c.reference for c in call.logged],
                "languages": call.languages,
            },
        )
        return self.outcome


def _record(
    request: CallRequest,
    tenant_id: str | None,
    started_at: datetime,
    *,
    outcome: str | None,
    status: Literal["completed", "missed", "failed"] = "completed",
    language: str | None = None,
    transcript: list[dict[str, Any]] | None = None,
    latency: dict[str, Any] | None = None,
    notice_played_at: datetime | None = None,
) -> CallRecord:
    return CallRecord(
        tenant_id=tenant_id,
        room_name=request.room_name,
        caller_number=request.caller_number,
        dialed_number=request.dialed_number,
        language=language,
        status=status,
        outcome=outcome,
        started_at=started_at,
        ended_at=datetime.now(UTC),
        transcript=transcript or [],
        latency=latency or {},
        notice_played_at=notice_played_at,
    )


def _caller_spoke(history: llm.ChatContext) -> bool:
    """Whether the call holds anything the caller said (a silent call has nothing to remember)."""
    return any(item.type == "message" and item.role == "user" and item.text_content for item in history.items)


async def _queue_memory_extraction(call: CallContext) -> None:
    """What the caller said becomes caller memory after the call, in the background (`mla_core.memory.jobs`:
    the job reads the transcript from the record just kept, under the number the call came from). A job
    not queued costs what this call would have taught the office, never the call: logged, not raised."""
    assert call.caller_number is not None
    try:
        await asyncio.to_thread(
            jobs.queue_call, call.services, call.tenant.tenant_id, call.room_name, call.caller_number
        )
    except AppError as exc:
        logger.warning(
            "memory extraction not queued",
            extra={"tenant_id": call.tenant.tenant_id, "room": call.room_name, "error": exc.message},
        )
    except Exception:
        logger.exception(
            "memory extraction not queued", extra={"tenant_id": call.tenant.tenant_id, "room": call.room_name}
        )


async def _caller_memory(services: Services, tenant_id: str, phone: str, within: float) -> CallerMemory:
    """What the office remembers of the caller's number, read before the greeting (one indexed query, a few
    ms). A database that fails or is slow costs the call its memory, never its greeting: after `within`
    seconds the call goes on without it (the read finishes in its thread, unheard)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(memories.for_call, services, tenant_id, phone), within)
    except AppError as exc:
        logger.warning("caller memory not read", extra={"tenant_id": tenant_id, "error": exc.message})
    except TimeoutError:
        logger.warning("caller memory not read", extra={"tenant_id": tenant_id, "error": f"not within {within} s"})
    except Exception:
        logger.exception("caller memory not read", extra={"tenant_id": tenant_id})
    return CallerMemory()


def _greeting_language(config: AgentConfig, known: CallerMemory) -> str:
    """The language the caller is greeted in: the one they spoke last time, when the office speaks it."""
    remembered = known.slot("language")
    code = phrases.language_code(remembered) if remembered else None
    return code if code is not None and code in config.languages else config.greeting_language


async def _keep_record(services: Services, record: CallRecord) -> None:
    """Store the call record, or queue it while Postgres is down; a record lost all the same is
    logged, never raised (the caller has been answered: the job must not crash)."""
    try:
        queued = await asyncio.to_thread(records.keep_call_record, services, record)
    except Exception:
        logger.exception("call record lost", extra={"tenant_id": record.tenant_id, "room": record.room_name})
        return
    if queued:
        logger.warning("call record queued", extra={"tenant_id": record.tenant_id, "room": record.room_name})


def _outcome(call: CallContext, close: CloseEvent | None) -> Outcome:
    if call.logged:
        return "complaint_logged"
    if close is not None and close.error is not None:
        return "failed"
    return "status_checked" if call.status_checks else "no_complaint"


async def start_call(request: CallRequest, services: Services, io: CallIO) -> CallRun:
    """Answer a call: find its tenant, start the session, greet at once; or apologise and hang up."""
    timings = CallTimings(setup_started=time.perf_counter())
    started_at = datetime.now(UTC)
    try:
        tenant = await asyncio.to_thread(
            resolve_call_tenant, services, job_metadata=request.job_metadata, dialed_number=request.dialed_number
        )
    except AppError as exc:  # Redis and Postgres both unreachable: whose call this is cannot be known
        timings.tenant_resolved = time.perf_counter()
        logger.error("tenant not resolved", extra={"room": request.room_name, "error": exc.message})
        run = await _reject(request, io, timings, started_at, "resolution_failed", phrases.temporary_failure)
        # The store was down, not the number unknown: the call is the tenant's (the job says whose,
        # or the dialed number will once the store is back), and its record waits in the queue.
        refused = _record(
            request,
            tenant_id_from_job(request.job_metadata),
            started_at,
            outcome="store_unavailable",
            status="failed",
            transcript=transcript_of(run.session.history),
        )
        await _keep_record(services, refused)
        return run
    timings.tenant_resolved = time.perf_counter()
    if tenant is None:
        return await _reject(request, io, timings, started_at, "no_tenant", phrases.rejection)
    if tenant.config.status != "active":
        return await _paused(request, services, io, timings, started_at, tenant)

    config = tenant.config
    known = CallerMemory()
    if request.caller_number:  # never by a hidden caller's callback number: nobody confirmed whose it is
        known = await _caller_memory(services, tenant.tenant_id, request.caller_number, io.settings.memory_load_timeout)
        timings.memory_loaded = time.perf_counter()
    else:
        timings.memory_loaded = timings.tenant_resolved
    call = CallContext(
        services=services,
        tenant=tenant,
        room_name=request.room_name,
        caller_number=request.caller_number,
        language=_greeting_language(config, known),
        voice=io.voice,
        known=known,
    )
    session = _session(io, llm=io.llm_factory(config.llm), userdata=call)
    run = CallRun(request=request, session=session, timings=timings, started_at=started_at, call=call)
    await _start(session, GrievanceAgent(call), io)

    timings.greeting_requested = time.perf_counter()
    # The greeting up to its closing question (the recording notice included) is said at once; the
    # question waits for the open complaints, which a returning caller is asked about instead: one
    # question ends the opening, never two in a row.
    text = spoken_greeting(config, call.language, language_profile(config, call.language).greeting)
    if request.caller_number is None:
        text = without_memory_notice(text, call.language)
    opening, question = split_closing_question(text)
    greeting = session.say(opening, allow_interruptions=False)  # never empty: the notice is in it

    def notice_played(handle: Any) -> None:
        if not handle.interrupted:
            call.notice_played_at = datetime.now(UTC)
            run.checkpoint()

    greeting.add_done_callback(notice_played)
    run.opening.append(greeting)
    _log_start(request, tenant, timings)
    # A returning caller's open complaints are looked up while the greeting plays (seconds of audio),
    # so the lookup adds nothing to the time before the first word.
    found: list[intake.ComplaintView] = []
    if request.caller_number:
        try:
            found = await asyncio.to_thread(intake.open_complaints, services, tenant.tenant_id, request.caller_number)
        except Exception:  # a failed lookup costs the returning caller a sentence, not the call
            logger.exception("open complaints not read", extra={"tenant_id": tenant.tenant_id})
            found = []
    if summary := phrases.open_complaints_summary(config, found, call.language):
        run.opening.append(session.say(summary))
    elif question:
        run.opening.append(session.say(question))
    return run


def _session(io: CallIO, *, llm: llm.LLM | None, userdata: CallContext | None) -> AgentSession:
    kwargs: dict[str, Any] = {"vad": io.vad, "turn_handling": turn_handling(io.settings, text_mode=io.text_mode)}
    if llm is not None:
        kwargs["llm"] = llm
    if userdata is not None:
        kwargs["userdata"] = userdata
    return AgentSession(max_tool_steps=4, user_away_timeout=None if io.text_mode else 20.0, **kwargs)


async def _start(session: AgentSession, agent: Agent, io: CallIO) -> None:
    if io.room is None:
        if io.audio_input is not None:
            session.input.audio = io.audio_input
        if io.audio_output is not None:
            session.output.audio = io.audio_output
        await session.start(agent)
    elif io.room_options is None:
        await session.start(agent, room=io.room)
    else:
        await session.start(agent, room=io.room, room_options=io.room_options)


async def _reject(
    request: CallRequest,
    io: CallIO,
    timings: CallTimings,
    started_at: datetime,
    reason: str,
    apology: Callable[[Iterable[str]], str],
) -> CallRun:
    """Nobody's number, or no way to tell: an apology in the call's likely language and English
    (`core.regions.apology_languages`), then hang up."""
    languages = regions.apology_languages(request.dialed_number, request.caller_number, io.settings.apology_language)
    session = _session(io, llm=None, userdata=None)
    run = CallRun(request=request, session=session, timings=timings, started_at=started_at, call=None)
    voice = io.voice
    profile = _apology_profile(languages[0])
    agent = Agent(instructions="") if voice is None else Agent(instructions="", tts=voice.tts(profile))
    await _start(session, agent, io)
    timings.greeting_requested = time.perf_counter()
    spoken = session.say(apology(languages), allow_interruptions=False)
    run.opening.append(spoken)
    await spoken.wait_for_playout()
    records.log_rejected_call(request.dialed_number, request.caller_number, reason)
    # With `delete_room_on_close` (the worker sets it) closing the session hangs up.
    session.shutdown(drain=True)
    run.outcome = "rejected"
    return run


async def _paused(
    request: CallRequest,
    services: Services,
    io: CallIO,
    timings: CallTimings,
    started_at: datetime,
    tenant: CallTenant,
) -> CallRun:
    """The office paused its agent: say so in its language, hang up, and keep the call as missed."""
    config = tenant.config
    language = config.greeting_language
    session = _session(io, llm=None, userdata=None)
    run = CallRun(request=request, session=session, timings=timings, started_at=started_at, call=None)
    voice = io.voice
    profile = language_profile(config, language)
    agent = Agent(instructions="") if voice is None else Agent(instructions="", tts=voice.tts(profile))
    await _start(session, agent, io)
    timings.greeting_requested = time.perf_counter()
    spoken = session.say(
        phrases.PAUSED[language].format(constituency=config.constituency_in(language)), allow_interruptions=False
    )
    run.opening.append(spoken)
    await spoken.wait_for_playout()
    missed = _record(request, tenant.tenant_id, started_at, outcome="agent_paused", status="missed", language=language)
    await _keep_record(services, missed)
    session.shutdown(drain=True)
    run.outcome = "rejected"
    return run


def _log_start(request: CallRequest, tenant: CallTenant, timings: CallTimings) -> None:
    logger.info(
        "call answered",
        extra={
            "tenant_id": tenant.tenant_id,
            "room": request.room_name,
            "caller": mask_phone(request.caller_number),
            "dialed": mask_phone(request.dialed_number),
            "setup_ms": round(timings.setup_ms, 2),
            "resolution_ms": round(timings.resolution_ms, 2),
            "memory_ms": round(timings.memory_ms, 2),
        },
    )


# After the call ---------------------------------------------------------------------------------


def _at(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def transcript_of(history: llm.ChatContext) -> list[dict[str, Any]]:
    """The conversation as stored on the call record: what was said, and each tool call and result."""
    entries: list[dict[str, Any]] = []
    for item in history.items:
        if item.type == "message" and item.role in ("user", "assistant"):
            entries.append(
                {
                    "type": "message",
                    "role": "caller" if item.role == "user" else "agent",
                    "text": item.text_content or "",
                    "interrupted": item.interrupted,
                    "at": _at(item.created_at),
                }
            )
        elif item.type == "function_call":
            try:
                arguments = json.loads(item.arguments or "{}")
            except ValueError:
                arguments = {"raw": item.arguments}
            entries.append({"type": "tool_call", "name": item.name, "arguments": arguments, "at": _at(item.created_at)})
        elif item.type == "function_call_output":
            entries.append(
                {
                    "type": "tool_result",
                    "name": item.name,
                    "output": item.output,
                    "is_error": item.is_error,
                    "at": _at(item.created_at),
                }
            )
        elif item.type == "agent_handoff" and item.old_agent_id is not None:  # not the session's first agent
            entries.append({"type": "handoff", "agent": item.new_agent_id, "at": _at(item.created_at)})
    return entries


_TURN_METRICS = ("e2e_latency", "llm_node_ttft", "tts_node_ttfb", "end_of_turn_delay", "transcription_delay")


def latency_of(history: llm.ChatContext, timings: CallTimings) -> dict[str, Any]:
    """Per-turn latency (seconds) from the session's turn metrics, with medians and maxima.

    Each caller turn contributes its end-of-turn and transcription delays; the agent's reply
    after it contributes LLM time-to-first-token, TTS time-to-first-byte and end-to-end latency
    (caller stops speaking → agent starts). These are LiveKit's `ChatMessage.metrics`, the
    per-turn successor of the deprecated `metrics_collected` events.
    """
    turns: list[dict[str, float]] = []
    pending: dict[str, float] = {}
    for item in history.items:
        if item.type != "message" or item.role not in ("user", "assistant"):
            continue
        figures = {
            name: float(value)
            for name, value in item.metrics.items()
            if name in _TURN_METRICS and isinstance(value, int | float)
        }
        if item.role == "user":
            pending = figures
        elif figures or pending:
            turns.append({**pending, **figures})
            pending = {}
    summary: dict[str, float] = {}
    for name in _TURN_METRICS:
        values = [turn[name] for turn in turns if name in turn]
        if values:
            summary[f"{name}_p50"] = round(statistics.median(values), 4)
            summary[f"{name}_max"] = round(max(values), 4)
    return {
        "setup_ms": round(timings.setup_ms, 2),
        "tenant_resolution_ms": round(timings.resolution_ms, 2),
        "memory_ms": round(timings.memory_ms, 2),
        "turns": [{name: round(value, 4) for name, value in turn.items()} for turn in turns],
        "summary": summary,
    }


# Text mode --------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def text_call(
    services: Services,
    llm: llm.LLM | Callable[[LlmSettings], llm.LLM],
    *,
    dialed_number: str | None,
    caller_number: str | None,
    job_metadata: str = "",
    room_name: str | None = None,
) -> AsyncIterator[CallRun]:
    """A call without a phone: the real agent, tools, database and SMS, with text in and out.

    `llm` is the LLM itself, or a factory given the tenant's LLM settings. Runs inside a fake
    LiveKit job (the end_call tool ends "the job"); yields once greeted, and records the call on
    the way out.
    """
    llm_factory = llm if callable(llm) else lambda _settings: llm
    request = CallRequest(
        room_name=room_name or f"sim-{uuid.uuid4().hex[:12]}",
        job_metadata=job_metadata,
        dialed_number=dialed_number,
        caller_number=caller_number,
    )
    with fake_job_context(job_metadata=job_metadata, job_id=f"sim-{request.room_name}"):
        run = await start_call(request, services, CallIO(llm_factory=llm_factory))
        try:
            await run.wait_greeted()
            yield run
        finally:
            await run.finish()
