"""One meeting's notes, from the AI note-taker joining the room to its last segment stored: the code path the
note-taker worker (`agent_pool.notetaker`), the meeting simulator and the tests all run.

- Every remote participant gets an `AgentSession` of its own that only listens (LiveKit's multi-user
  transcriber): a `Transcriber` agent whose STT hears that participant, and no LLM (each turn ends in
  `StopResponse`). A participant marked as the hall microphone (`mla.hall_microphone` "1") is diarized: the
  STT's speaker ("S1", "S2") becomes the segment's `speaker_label`.
- Each final result becomes a `NewSegment` (times in ms from the meeting's start, a key that makes a retried
  write store it once), handed to `SegmentWriter`, which stores them in short batches through
  `meetings.record_segments` (the live page's `meeting.segment` event follows) and retries a failed write.
- The note-taker says only fixed sentences (`agent_pool.phrases`): that the meeting is transcribed (and
  recorded) in each of its languages, once people are there and to whoever joins later, and that the
  recording stopped when the host stops it (`transcribing: false` in the room's metadata): its sessions
  close then, and nothing more is stored.

Only `MeetingIO` differs between a LiveKit room (the worker) and none (the simulator, the tests): the
participants' microphones, the captions and the announcements' audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args

from livekit import rtc
from livekit.agents import Agent, AgentSession, ModelSettings, StopResponse, llm, room_io, stt, tts, utils
from livekit.agents.voice import io as session_io
from livekit.agents.voice.events import UserInputTranscribedEvent
from livekit.agents.voice.speech_handle import SpeechHandle
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_pool import phrases
from agent_pool.settings import NotetakerSettings, get_notetaker_settings
from agent_pool.voice import MeetingVoice, language_profile
from mla_core.adapters import Services
from mla_core.agents.config import DEFAULT_VOICES, LanguageProfile, SttSettings, TtsSettings
from mla_core.agents.routing import load_agent_config
from mla_core.core.errors import NotFoundError
from mla_core.core.languages import SUPPORTED_LANGUAGES
from mla_core.meetings import meetings
from mla_core.meetings.models import NOTETAKER_IDENTITY, NOTETAKER_NAME, SEGMENT_LIMIT, NewSegment, Role

logger = logging.getLogger(__name__)

ATTENDEE_ROLES: tuple[Role, ...] = tuple(r for r in get_args(Role) if r != "notetaker")
# Who joins within this long of another hears the same announcement (a hall filling up hears it once);
# the first announcement is said at once, before anyone's words are stored.
ANNOUNCE_GATHER_S = 1.0
SPEAKER_LABEL_LIMIT = 40


class MeetingJob(BaseModel):
    """The note-taker's dispatch metadata, as `meetings.room_spec` writes it."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str = Field(min_length=1)
    meeting_id: uuid.UUID
    languages: list[str] = Field(default_factory=list)
    kind: str = ""


class RoomState(BaseModel):
    """What the note-taker follows of the room's metadata (`meetings.room_metadata`)."""

    model_config = ConfigDict(extra="ignore")

    transcribing: bool = True
    # Unknown means recorded: the announcement errs on the side of telling people more.
    recording: bool = True

    @classmethod
    def of(cls, metadata: str) -> RoomState:
        try:
            return cls.model_validate_json(metadata) if metadata else cls()
        except ValidationError:
            logger.warning("room metadata unreadable: following the defaults")
            return cls()


@dataclass(frozen=True)
class Attendee:
    """A participant as the note-taker sees one: identity, display name and the token's attributes."""

    identity: str
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, participant: rtc.RemoteParticipant) -> Attendee:
        return cls(participant.identity, participant.name or participant.identity, dict(participant.attributes))

    @property
    def role(self) -> Role:
        role = self.attributes.get("mla.role", "")
        return next((r for r in ATTENDEE_ROLES if r == role), "citizen")  # a phone dialled in has no token

    @property
    def hall_microphone(self) -> bool:
        return self.attributes.get("mla.hall_microphone") == "1"


def segment_of(
    data: stt.SpeechData,
    *,
    identity: str,
    diarized: bool,
    origin: float,
    meeting_start: float,
    heard_at: float,
    languages: Sequence[str],
) -> NewSegment | None:
    """A final result as the segment stored: its times in ms from the meeting's start (the STT's are seconds
    from `origin`, the wall-clock time its stream's audio began; without them, when it was heard), its
    language one of ours, and a key the same for the same words heard (a retried write stores it once)."""
    text = " ".join(data.text.split())[:SEGMENT_LIMIT]
    if not text:
        return None
    if data.end_time > 0:
        start, end = origin + data.start_time, origin + data.end_time
    else:
        start = end = heard_at
    start_ms = max(0, round((start - meeting_start) * 1000))
    end_ms = max(start_ms, round((end - meeting_start) * 1000))
    label = ((data.speaker_id or "")[:SPEAKER_LABEL_LIMIT] or None) if diarized else None
    return NewSegment(
        participant_identity=identity,
        speaker_label=label,
        language=spoken_language(data.language, languages),
        text=text,
        start_ms=start_ms,
        end_ms=end_ms,
        segment_key=f"{identity}|{label or ''}|{start_ms}|{end_ms}",
    )


def spoken_language(reported: str | None, languages: Sequence[str]) -> str:
    """The STT's language (`ta`, `hi-Latn`, `en-US`) as one of ours; the meeting's first when it says none
    we speak."""
    code = (reported or "").split("-")[0].lower()
    if code in SUPPORTED_LANGUAGES:
        return code
    return next((language for language in languages if language in SUPPORTED_LANGUAGES), "en")


@dataclass
class MeetingIO:
    """Where the note-taker listens and speaks: a LiveKit room, or (`room=None`) the doubles given here."""

    voice: MeetingVoice
    room: rtc.Room | None = None
    # Without a room: a participant's microphone, where their live captions go, the announcements' audio.
    microphone: Callable[[str], session_io.AudioInput] | None = None
    captions: Callable[[str, UserInputTranscribedEvent], None] | None = None
    loudspeaker: session_io.AudioOutput | None = None
    settings: NotetakerSettings = field(default_factory=get_notetaker_settings)


class SegmentWriter:
    """A meeting's final segments stored as they come: those heard within `batch_wait` of each other in one
    write, in the order heard; a failed write is retried (the keys make a retry store each segment once)
    until it succeeds, so none is lost while the process lives."""

    def __init__(self, services: Services, tenant_id: str, meeting_id: uuid.UUID, settings: NotetakerSettings) -> None:
        self._services = services
        self._tenant_id = tenant_id
        self._meeting_id = meeting_id
        self._settings = settings
        self._pending: list[NewSegment] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.stored = 0  # segments written now (a retried key, or a meeting no longer transcribed: none)
        self.failed_writes = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, segment: NewSegment) -> None:
        self._pending.append(segment)
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="meeting-segments")

    async def _run(self) -> None:
        s = self._settings
        while True:
            await self._wake.wait()
            self._wake.clear()
            if s.batch_wait:
                await asyncio.sleep(s.batch_wait)
            while self._pending:
                batch = self._pending[: s.batch_size]
                try:
                    ids = await asyncio.to_thread(
                        meetings.record_segments, self._services, self._tenant_id, self._meeting_id, batch
                    )
                except Exception:  # the database is away: the same batch again, soon
                    self.failed_writes += 1
                    logger.warning(
                        "meeting segments not stored yet: retrying",
                        extra={"meeting_id": str(self._meeting_id), "segments": len(batch)},
                        exc_info=True,
                    )
                    await asyncio.sleep(s.retry_wait)
                    continue
                del self._pending[: len(batch)]
                self.stored += len(ids)
            self._idle.set()

    async def drain(self, timeout: float | None = None) -> bool:
        """Until every segment heard so far is written; False when `timeout` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        if not await self.drain(self._settings.flush_timeout):
            logger.error(
                "meeting segments lost: the database did not answer before the note-taker stopped",
                extra={"meeting_id": str(self._meeting_id), "segments": len(self._pending)},
            )
        if self._task is not None:
            await utils.aio.cancel_and_wait(self._task)


FinalHandler = Callable[["Transcriber", stt.SpeechEvent], None]


class Transcriber(Agent):
    """Hears one participant: each final result goes to `on_final`; it never answers (no LLM, no TTS)."""

    def __init__(self, attendee: Attendee, ears: stt.STT, on_final: FinalHandler) -> None:
        super().__init__(instructions="Transcribe what the participant says. Never answer.", stt=ears)
        self.attendee = attendee
        self._ears = ears
        self._on_final = on_final
        self.origin: float | None = None  # wall-clock time the STT's stream times count from

    async def stt_node(
        self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
    ) -> AsyncIterator[stt.SpeechEvent]:
        """LiveKit's STT node with the stream's times anchored where its audio began, so a segment's start
        and end are the participant's own timeline, placed on the meeting's."""
        ears = self._ears
        if not ears.capabilities.streaming:
            raise RuntimeError("the note-taker's STT streams (Deepgram's live socket)")
        async with ears.stream(conn_options=self.session.conn_options.stt_conn_options) as stream:

            async def forward() -> None:
                async for frame in audio:
                    if self.origin is None:
                        self.origin = time.time() - frame.duration
                    stream.push_frame(frame)

            forwarding = asyncio.create_task(forward())
            try:
                async for event in stream:
                    if event.type == stt.SpeechEventType.FINAL_TRANSCRIPT and event.alternatives:
                        self._on_final(self, event)
                    yield event
            finally:
                await utils.aio.cancel_and_wait(forwarding)

    async def on_user_turn_completed(self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage) -> None:
        raise StopResponse()  # the turn is kept as segments already; nothing is said back


class Announcer(Agent):
    """The note-taker's voice in the room: fixed sentences only, each with the audio made for it."""

    def __init__(self) -> None:
        super().__init__(instructions="Say only the fixed announcements.")


class NoteTaker:
    """The note-taker of one live meeting (`start_note_taking` builds it)."""

    def __init__(
        self,
        services: Services,
        tenant_id: str,
        meeting_id: uuid.UUID,
        *,
        started_at: datetime,
        languages: Sequence[str],
        profiles: Mapping[str, LanguageProfile],
        state: RoomState,
        io: MeetingIO,
    ) -> None:
        self.services = services
        self.tenant_id = tenant_id
        self.meeting_id = meeting_id
        self.started_at = started_at
        self.languages = list(languages)
        self.profiles = dict(profiles)
        self.io = io
        self.transcribing = state.transcribing
        self.recorded = state.recording
        self.writer = SegmentWriter(services, tenant_id, meeting_id, io.settings)
        self.sessions: dict[str, AgentSession] = {}
        self.announcements: list[SpeechHandle] = []
        self._joining: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._announcer: AgentSession | None = None
        self._announcing: asyncio.Task[None] | None = None
        self._announced = False
        self._voices: dict[str, tts.TTS] = {}
        self.closed = False

    @property
    def _log(self) -> dict[str, str]:
        return {"tenant_id": self.tenant_id, "meeting_id": str(self.meeting_id)}

    # The room's events -----------------------------------------------------------------------

    def on_joined(self, attendee: Attendee) -> None:
        """`join` from a room's (synchronous) event handler."""
        self._spawn(self.join(attendee))

    def on_left(self, attendee: Attendee) -> None:
        self._spawn(self.leave(attendee))

    def on_room_metadata(self, metadata: str) -> None:
        self._spawn(self.follow(RoomState.of(metadata)))

    async def join(self, attendee: Attendee) -> None:
        """Someone is in the room: kept as present, told of the recording, and transcribed."""
        if self.closed or attendee.identity in self.sessions or attendee.identity in self._joining:
            return
        self._joining.add(attendee.identity)
        try:
            await self._seen(attendee, joined_at=datetime.now(UTC))
            if not self.transcribing:
                return
            await self._announce_to(attendee)
            self.sessions[attendee.identity] = await self._transcribe(attendee)
            logger.info(
                "meeting participant transcribed",
                extra={**self._log, "role": attendee.role, "hall_microphone": attendee.hall_microphone},
            )
        finally:
            self._joining.discard(attendee.identity)

    async def leave(self, attendee: Attendee) -> None:
        session = self.sessions.pop(attendee.identity, None)
        if session is not None:
            await _close(session)
        await self._seen(attendee, left_at=datetime.now(UTC))

    async def follow(self, state: RoomState) -> None:
        """The room's metadata changed: the host's "stop recording" stops the transcript too."""
        if self.transcribing and not state.transcribing:
            await self.stop_transcribing()

    async def stop_transcribing(self) -> None:
        """Nothing more is heard or stored (the recording stopped); the room is told so."""
        if not self.transcribing:
            return
        self.transcribing = False
        sessions, self.sessions = list(self.sessions.values()), {}
        await asyncio.gather(*(_close(session) for session in sessions))
        await self.writer.drain(self.io.settings.flush_timeout)
        if self._announcer is not None:
            self._say([phrases.meeting_recording_stopped(language) for language in self.languages])
        logger.info("meeting transcription stopped", extra=self._log)

    async def start(self) -> None:
        await self._seen(Attendee(NOTETAKER_IDENTITY, NOTETAKER_NAME), role="notetaker", joined_at=datetime.now(UTC))

    async def announced(self) -> None:
        """Until every announcement so far has been said (the tests', the simulator's wait)."""
        if self._announcing is not None:
            await asyncio.shield(self._announcing)
        for handle in list(self.announcements):
            await handle

    async def aclose(self) -> None:
        """The job ends: sessions closed, every segment heard stored, the note-taker's leave recorded."""
        if self.closed:
            return
        self.closed = True
        await utils.aio.cancel_and_wait(*self._tasks)
        if self._announcing is not None:
            await utils.aio.cancel_and_wait(self._announcing)
        sessions, self.sessions = list(self.sessions.values()), {}
        await asyncio.gather(*(_close(session) for session in sessions))
        await self.writer.aclose()
        if self._announcer is not None:
            await _close(self._announcer)
        await self._seen(Attendee(NOTETAKER_IDENTITY, NOTETAKER_NAME), role="notetaker", left_at=datetime.now(UTC))
        logger.info("meeting notes closed", extra={**self._log, "segments": self.writer.stored})

    # Listening -------------------------------------------------------------------------------

    async def _transcribe(self, attendee: Attendee) -> AgentSession:
        profile = self.profiles[self.languages[0]]
        ears = self.io.voice.stt(attendee.identity, profile, self.languages, diarize=attendee.hall_microphone)
        agent = Transcriber(attendee, ears, self._heard)
        # Deepgram says where an utterance ends: no VAD, and a turn ends with the STT's (then StopResponse).
        session: AgentSession = AgentSession(turn_handling={"turn_detection": "stt"}, user_away_timeout=None)
        room = self.io.room
        if room is not None:
            options = room_io.RoomOptions(
                audio_input=True,
                text_output=True,  # live captions on lk.transcription, as this participant's
                audio_output=False,
                text_input=False,
                participant_identity=attendee.identity,
                close_on_disconnect=False,  # `leave` closes it
            )
            await session.start(agent, room=room, room_options=options)
            return session
        if self.io.microphone is not None:
            session.input.audio = self.io.microphone(attendee.identity)
        captions = self.io.captions
        if captions is not None:
            session.on("user_input_transcribed", lambda event: captions(attendee.identity, event))
        await session.start(agent)
        return session

    def _heard(self, transcriber: Transcriber, event: stt.SpeechEvent) -> None:
        if not self.transcribing:
            return
        attendee = transcriber.attendee
        segment = segment_of(
            event.alternatives[0],
            identity=attendee.identity,
            diarized=attendee.hall_microphone,
            origin=transcriber.origin if transcriber.origin is not None else event.created_at,
            meeting_start=self.started_at.timestamp(),
            heard_at=event.created_at,
            languages=self.languages,
        )
        if segment is not None:
            self.writer.add(segment)

    # Speaking --------------------------------------------------------------------------------

    async def _announce_to(self, attendee: Attendee) -> None:
        """The recording announced in every language of the meeting; who joins while one waits to be said
        hears that one."""
        if self._announcer is None:
            self._announcer = await self._announcing_session(attendee)
        if not self._announced:
            self._announced = True
            self._say([phrases.meeting_announcement(language, recorded=self.recorded) for language in self.languages])
        elif self._announcing is None or self._announcing.done():
            self._announcing = asyncio.create_task(self._announce_soon(), name="meeting-announcement")

    async def _announce_soon(self) -> None:
        await asyncio.sleep(ANNOUNCE_GATHER_S)
        if self.transcribing:
            self._say([phrases.meeting_announcement(language, recorded=self.recorded) for language in self.languages])

    def _say(self, sentences: Sequence[str]) -> None:
        assert self._announcer is not None
        self.announcements = [handle for handle in self.announcements if not handle.done()]
        for language, text in zip(self.languages, sentences, strict=True):
            self.announcements.append(
                self._announcer.say(
                    text, audio=self._spoken(language, text), allow_interruptions=False, add_to_chat_ctx=False
                )
            )

    async def _spoken(self, language: str, text: str) -> AsyncIterator[rtc.AudioFrame]:
        voice = self._voices.get(language)
        if voice is None:
            voice = self._voices[language] = self.io.voice.tts(self.profiles[language])
        async with voice.synthesize(text) as stream:
            async for audio in stream:
                yield audio.frame

    async def _announcing_session(self, first: Attendee) -> AgentSession:
        session: AgentSession = AgentSession(user_away_timeout=None)
        room = self.io.room
        if room is not None:
            options = room_io.RoomOptions(
                audio_input=False,
                text_input=False,
                audio_output=True,
                text_output=True,  # the announcement as the note-taker's captions
                participant_identity=first.identity,
                close_on_disconnect=False,  # it speaks to the room, not to whoever came first
            )
            await session.start(Announcer(), room=room, room_options=options)
            return session
        if self.io.loudspeaker is not None:
            session.output.audio = self.io.loudspeaker
        await session.start(Announcer())
        return session

    # Presence --------------------------------------------------------------------------------

    async def _seen(
        self,
        attendee: Attendee,
        *,
        role: Role | None = None,
        joined_at: datetime | None = None,
        left_at: datetime | None = None,
    ) -> None:
        try:
            await asyncio.to_thread(
                meetings.seen,
                self.services,
                self.tenant_id,
                self.meeting_id,
                attendee.identity,
                name=attendee.name,
                role=role or attendee.role,
                joined_at=joined_at,
                left_at=left_at,
            )
        except Exception:  # presence is also in LiveKit's webhooks: a miss here costs no words
            logger.warning("meeting presence not recorded", extra=self._log, exc_info=True)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[Any] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _close(session: AgentSession) -> None:
    with contextlib.suppress(Exception):  # closing what is already closing
        await session.aclose()


def _profile(services: Services, tenant_id: str, languages: Sequence[str]) -> dict[str, LanguageProfile]:
    """The office's STT and voice for each language (its agent's profiles), the platform's without one."""
    config = load_agent_config(services, tenant_id)
    if config is not None:
        return {language: language_profile(config, language) for language in languages}
    return {
        language: LanguageProfile(
            greeting="",
            stt=SttSettings(language=language),
            tts=TtsSettings(voice=DEFAULT_VOICES.get(language, DEFAULT_VOICES["en"]), language=language),
        )
        for language in languages
    }


async def start_note_taking(
    job_metadata: str, room_metadata: str, services: Services, io: MeetingIO
) -> NoteTaker | None:
    """The note-taker for the meeting the job names, present in it; None (and nothing done) for a job that
    names no live meeting."""
    try:
        job = MeetingJob.model_validate_json(job_metadata)
    except ValidationError:
        logger.error("note-taker job without a meeting: leaving")
        return None
    try:
        meeting = await asyncio.to_thread(meetings.get, services, job.tenant_id, job.meeting_id)
    except NotFoundError:
        meeting = None
    if meeting is None or meeting.status != "live" or meeting.started_at is None:
        logger.warning(
            "note-taker job for a meeting that is not live: leaving",
            extra={"tenant_id": job.tenant_id, "meeting_id": str(job.meeting_id)},
        )
        return None
    languages = meeting.languages or job.languages or ["en"]
    profiles = await asyncio.to_thread(_profile, services, job.tenant_id, languages)
    note_taker = NoteTaker(
        services,
        job.tenant_id,
        job.meeting_id,
        started_at=meeting.started_at,
        languages=languages,
        profiles=profiles,
        state=RoomState.of(room_metadata),
        io=io,
    )
    await note_taker.start()
    logger.info("meeting notes started", extra={**note_taker._log, "languages": ",".join(languages)})
    return note_taker
