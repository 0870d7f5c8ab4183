"""Segment ingest (issue 19): one AI note-taker process taking a 50-participant meeting's transcript events.

The meeting is the office's, as the simulator holds one (`agent_pool.simulate_meeting`): an office on the
local stack (run in a child process, so this process holds only what a note-taker process holds), a
janata darbar scheduled and started through `mla_core.meetings.meetings` (its room at the LiveKit
stand-in), a citizen's token minted for each participant, one of them the hall microphone (diarized: two
speakers at it). The note-taker is the real one (`agent_pool.meeting.start_note_taking`, with the
production `NotetakerSettings` defaults): an `AgentSession` per participant listening to a silent
microphone at real-time pace, its STT the scripted double (`agent_pool.testing.MeetingSTT`: start of
speech, an interim, the final, end of speech per line, Tamil, Hindi and English lines), its
`SegmentWriter` storing the finals through `meetings.record_segments`.

1. **Memory per participant**: USS of this process (psutil, or /proc/self/smaps_rollup) before the meeting's
   note-taker starts (after a warm-up meeting of two participants has come and gone) and once every
   participant's session is listening, divided by the participants; again after the rounds of part 3.
2. **Listening's CPU**: this process's CPU time (every thread) over a window with every session listening
   and nobody speaking, per participant-minute of audio; less the same process's rate before joining.
3. **Segments stored per second**: each round every participant's STT reports `--segments` final lines at
   once, taken as fast as the note-taker takes them; from the first line queued to the last batch
   committed (the writer's `record_segments` calls, timed as they return), the count checked in Postgres.
   The baselines, in the same round, in a worker thread (the 50 sessions keep listening on the event loop,
   as they do while the writer's thread writes): the very batches the writer made (same rows, same sizes)
   through `meetings.record_segments` into a second meeting, and `store.insert_segments`'s statement on a
   plain psycopg connection (autocommit: one transaction per batch, no pool, no live-update event) into a
   third. Goal: ≥ 200 segments/s through the note-taker. One warm-up round first, not counted.

Not in these figures: WebRTC (Opus decoding, a room's audio frames), Deepgram's websockets per participant,
and the live captions a room's `lk.transcription` topic carries, which a real meeting adds on top.
Run: `.venv/bin/python -m bench.meeting_ingest [--participants 50] [--segments 40] [--rounds 3]
[--window 10]` (about a minute at these).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from livekit.agents.testing import fake_job_context
from psycopg.rows import dict_row

from agent_pool.meeting import Attendee, MeetingIO, NoteTaker, Transcriber, start_note_taking
from agent_pool.settings import NotetakerSettings
from agent_pool.testing import CapturedAudio, Heard, ScriptedMeetingVoice, SilentMicrophone
from bench.agent_stack import create_tenants, local_stack, percentile

if TYPE_CHECKING:
    from mla_core.adapters import Services
    from mla_core.core.principal import OfficeUser
    from mla_core.db import Conn
    from mla_core.meetings.models import NewSegment

GOAL_PER_S = 200.0
LANGUAGES = ("ta", "hi", "en")
LINES = {
    "ta": (
        "எங்கள் தெருவில் மூன்று நாட்களாக குடிநீர் வரவில்லை.",
        "பள்ளிக்கு அருகில் உள்ள சாலை மிகவும் மோசமாக உள்ளது.",
        "முதியோர் ஓய்வூதியம் இன்னும் வரவில்லை, ஐயா.",
        "மழை பெய்தால் கால்வாய் நிரம்பி வீட்டுக்குள் வருகிறது.",
    ),
    "hi": (
        "हमारी गली की बत्ती दो हफ्ते से नहीं जल रही है।",
        "मेरी पेंशन तीन महीने से नहीं आई है।",
        "राशन कार्ड में नाम अभी तक नहीं जुड़ा।",
        "बस स्टैंड के पास कचरा रोज़ जमा होता है।",
    ),
    "en": (
        "The drain near the market overflows every time it rains.",
        "We need a bus stop near the government hospital.",
        "My son's scholarship application has been pending since March.",
        "The transformer on 4th Cross Street sparks at night.",
    ),
}
NAMES = ("Murugan", "Lakshmi", "Ramesh", "Sunita", "Karthik", "Meena", "Arjun", "Priya", "Selvi", "Raju")
LINE_S = 2.0  # each line's place in its participant's audio: its start and end make its segment's key
ROUND_TIMEOUT_S = 120.0


# This process: memory and CPU -----------------------------------------------------------------------


def uss_mb() -> float:
    """This process's unique set size (pages no other process shares), after a collection."""
    gc.collect()
    try:
        import psutil
    except ImportError:
        fields: dict[str, int] = {}
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
            name, kilobytes, *_ = line.split()
            fields[name.rstrip(":")] = int(kilobytes)
        return (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024
    return float(psutil.Process().memory_full_info().uss) / 2**20


def cpu_rate() -> Callable[[], float]:
    """A stopwatch of this process's CPU time (every thread: `process_time`), read as CPU s per wall s."""
    cpu, wall = time.process_time(), time.perf_counter()

    def read() -> float:
        return (time.process_time() - cpu) / (time.perf_counter() - wall)

    return read


# The meeting ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meeting:
    tenant_id: str
    id: uuid.UUID
    job: str  # the note-taker's dispatch metadata
    room: str  # the room's metadata


def live_meeting(services: Services, who: OfficeUser, title: str) -> Meeting:
    """A janata darbar scheduled and started as the office's MLA admin would (its room at the stand-in)."""
    from mla_core.meetings import meetings
    from mla_core.meetings.models import MeetingCreate

    body = MeetingCreate(kind="janata_darbar", title=title, scheduled_at=datetime.now(UTC), languages=list(LANGUAGES))
    meeting = meetings.start(services, who, meetings.schedule(services, who, body).id)
    return Meeting(
        tenant_id=who.tenant_id,
        id=meeting.id,
        job=meetings.room_spec(services, who.tenant_id, meeting).notetaker_metadata,
        room=meetings.room_metadata(who.tenant_id, meeting, transcribing=True),
    )


def citizens(services: Services, who: OfficeUser, meeting: Meeting, count: int) -> list[Attendee]:
    """A citizen's token from the host for each participant, the first the hall's microphone."""
    from mla_core.meetings import meetings
    from mla_core.meetings.models import TokenRequest

    attendees = []
    for index in range(count):
        hall = index == 0
        name = "Hall microphone" if hall else f"{NAMES[index % len(NAMES)]} {index}"
        joined = meetings.token(
            services, who, meeting.id, TokenRequest(role="citizen", name=name, hall_microphone=hall)
        )
        attributes = {"mla.role": joined.role, "mla.hall_microphone": "1" if hall else "0"}
        attendees.append(Attendee(joined.identity, name, attributes))
    return attendees


def lines(index: int, attendee: Attendee, first: int, count: int) -> list[Heard]:
    """What participant `index` says in a round: its lines `first`… in turn through the languages; at the
    hall microphone, two people taking turns."""
    heard = []
    for k in range(first, first + count):
        language = LANGUAGES[(index + k) % len(LANGUAGES)]
        text = LINES[language][k % len(LINES[language])]
        speaker = f"S{k % 2}" if attendee.hall_microphone else None
        heard.append(Heard(text, language, k * LINE_S, k * LINE_S + LINE_S * 0.8, speaker))
    return heard


def stored_count(services: Services, meeting: Meeting) -> int:
    from mla_core.meetings import store

    with services.db.transaction() as conn:
        return store.segment_count(conn, meeting.tenant_id, meeting.id)


@dataclass
class Writes:
    """The note-taker's `record_segments` calls: each batch, the time spent in them, when the last returned."""

    batches: list[list[NewSegment]] = field(default_factory=list)
    writing_s: float = 0.0
    last_return: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def logging_writes(record: Callable[..., list[int]], writes: Writes) -> Callable[..., list[int]]:
    def logged(services: Services, tenant_id: str, meeting_id: uuid.UUID, segments: Sequence[NewSegment]) -> list[int]:
        started = time.perf_counter()
        ids = record(services, tenant_id, meeting_id, segments)
        returned = time.perf_counter()
        with writes.lock:
            writes.batches.append(list(segments))
            writes.writing_s += returned - started
            writes.last_return = returned
        return ids

    return logged


@dataclass
class Hearing:
    """The note-taker of one meeting, its participants and their scripted STT."""

    notes: NoteTaker
    voice: ScriptedMeetingVoice
    attendees: list[Attendee]
    meeting: Meeting


async def open_hearing(services: Services, meeting: Meeting, attendees: list[Attendee]) -> Hearing:
    voice = ScriptedMeetingVoice()
    io = MeetingIO(voice=voice, microphone=SilentMicrophone, loudspeaker=CapturedAudio(), settings=NotetakerSettings())
    notes = await start_note_taking(meeting.job, meeting.room, services, io)
    if notes is None:
        raise SystemExit("the note-taker did not take the bench meeting")
    for attendee in attendees:
        await notes.join(attendee)
    await notes.announced()
    deadline = time.monotonic() + 30
    while not all(_listening(notes, attendee) for attendee in attendees):  # every session's audio flowing
        if time.monotonic() > deadline:
            raise SystemExit("the note-taker's sessions did not all start listening within 30 s")
        await asyncio.sleep(0.05)
    return Hearing(notes, voice, attendees, meeting)


def _listening(notes: NoteTaker, attendee: Attendee) -> bool:
    session = notes.sessions.get(attendee.identity)
    agent = session.current_agent if session is not None else None
    return isinstance(agent, Transcriber) and agent.origin is not None


# 3. One round -----------------------------------------------------------------------------------------


@dataclass
class Round:
    segments: int
    notetaker_s: float
    record_s: float
    sql_s: float
    batch_sizes: list[int]
    writing_s: float  # of notetaker_s, in the writer's `record_segments` calls
    cpu_s: float  # this process's CPU time while the note-taker took the round

    def rate(self, seconds: float) -> float:
        return self.segments / seconds


async def ingest_round(
    services: Services,
    hearing: Hearing,
    writes: Writes,
    record: Callable[..., list[int]],
    plain: Conn,
    baselines: tuple[Meeting, Meeting],
    first: int,
    count: int,
    *,
    sql_first: bool,
) -> Round:
    """Every participant's `count` lines from their `first` at once through the note-taker, then the same
    batches through `record` (the product's `record_segments`) and through its statement on `plain`."""
    from mla_core.meetings import store

    by_record, by_sql = baselines
    segments = len(hearing.attendees) * count
    expected = await asyncio.to_thread(stored_count, services, hearing.meeting) + segments
    target = hearing.notes.writer.stored + segments
    with writes.lock:
        writes.batches.clear()
        writes.writing_s = 0.0
    cpu = time.process_time()
    started = time.perf_counter()
    for index, attendee in enumerate(hearing.attendees):
        hearing.voice.hear(attendee.identity, *lines(index, attendee, first, count))
    while hearing.notes.writer.stored < target:
        if time.perf_counter() - started > ROUND_TIMEOUT_S:
            raise SystemExit(f"the note-taker stored {target - hearing.notes.writer.stored} segments too few in time")
        await asyncio.sleep(0.005)
    notetaker_s = writes.last_return - started
    cpu_s = time.process_time() - cpu
    counted = await asyncio.to_thread(stored_count, services, hearing.meeting)
    if counted != expected:
        raise SystemExit(f"Postgres holds {counted} of the note-taker's segments, {expected} expected")
    with writes.lock:
        batches, writing_s = list(writes.batches), writes.writing_s

    def through_record() -> float:
        started = time.perf_counter()
        for batch in batches:
            record(services, by_record.tenant_id, by_record.id, batch)
        return time.perf_counter() - started

    def through_sql() -> float:
        started = time.perf_counter()
        for batch in batches:
            store.insert_segments(plain, by_sql.tenant_id, by_sql.id, batch)
        return time.perf_counter() - started

    sides = [(by_record, through_record), (by_sql, through_sql)]
    timed: dict[uuid.UUID, float] = {}
    for meeting, side in sides[::-1] if sql_first else sides:  # each first in every other round
        before = await asyncio.to_thread(stored_count, services, meeting)
        timed[meeting.id] = await asyncio.to_thread(side)
        if await asyncio.to_thread(stored_count, services, meeting) - before != segments:
            raise SystemExit("a baseline did not store every segment of the round")
    return Round(
        segments=segments,
        notetaker_s=notetaker_s,
        record_s=timed[by_record.id],
        sql_s=timed[by_sql.id],
        batch_sizes=[len(batch) for batch in batches],
        writing_s=writing_s,
        cpu_s=cpu_s,
    )


# The run ----------------------------------------------------------------------------------------------


@dataclass
class Figures:
    participants: int
    segments: int
    before_mb: float = 0.0
    listening_mb: float = 0.0
    after_mb: float = 0.0
    idle_cores: float = 0.0
    listening_cores: float = 0.0
    window_s: float = 0.0
    recorded_events: int = 0  # what the sessions hold of the events they emitted, at the end
    rounds: list[Round] = field(default_factory=list)
    warmup: Round | None = None


async def hold(services: Services, who: OfficeUser, args: argparse.Namespace) -> Figures:
    from mla_core.live import events
    from mla_core.meetings import meetings

    figures = Figures(args.participants, args.segments)
    warm = await asyncio.to_thread(live_meeting, services, who, "Bench warm-up")
    main = await asyncio.to_thread(live_meeting, services, who, "Janata darbar, Ward 12 (bench)")
    by_record = await asyncio.to_thread(live_meeting, services, who, "Bench baseline: record_segments")
    by_sql = await asyncio.to_thread(live_meeting, services, who, "Bench baseline: SQL")
    warm_people = await asyncio.to_thread(citizens, services, who, warm, 2)
    people = await asyncio.to_thread(citizens, services, who, main, args.participants)

    writes = Writes()
    # The plain baseline's connection, set as the product's are (`mla_core.db`), open for the whole run.
    plain = await asyncio.to_thread(
        psycopg.connect, services.db.url, autocommit=True, prepare_threshold=None, row_factory=dict_row
    )
    record = meetings.record_segments
    setattr(meetings, "record_segments", logging_writes(record, writes))  # noqa: B010 - timed where it returns
    try:
        with fake_job_context(job_metadata=warm.job, job_id="bench-warm-up"):
            # Imports, pools and the sessions' first-use costs, paid before anything is measured.
            warm_up = await open_hearing(services, warm, warm_people)
            await ingest_round(services, warm_up, writes, record, plain, (by_record, by_sql), 0, 3, sql_first=False)
            await warm_up.notes.aclose()
        del warm_up
        await asyncio.sleep(0.5)
        idle = cpu_rate()
        await asyncio.sleep(3.0)
        figures.idle_cores = idle()
        figures.before_mb = uss_mb()

        with fake_job_context(job_metadata=main.job, job_id="bench-meeting"):
            hearing = await open_hearing(services, main, people)
            try:
                await asyncio.sleep(1.0)  # the announcements' tasks done, every microphone at pace
                figures.listening_mb = uss_mb()
                listening = cpu_rate()
                await asyncio.sleep(args.window)
                figures.listening_cores, figures.window_s = listening(), args.window
                for round_ in range(args.rounds + 1):
                    measured = await ingest_round(
                        services, hearing, writes, record, plain, (by_record, by_sql), round_ * args.segments,
                        args.segments, sql_first=bool(round_ % 2),
                    )  # fmt: skip
                    if round_ == 0:
                        figures.warmup = measured
                    else:
                        figures.rounds.append(measured)
                figures.after_mb = uss_mb()
                # livekit-agents' AgentSession keeps every event it emits for its session report.
                sessions = hearing.notes.sessions.values()
                figures.recorded_events = sum(len(getattr(session, "_recorded_events", ())) for session in sessions)
            finally:
                await hearing.notes.aclose()
    finally:
        setattr(meetings, "record_segments", record)  # noqa: B010
        plain.close()
        await asyncio.to_thread(events.drain, services)
    return figures


# Report -----------------------------------------------------------------------------------------------


def report(figures: Figures, settings: NotetakerSettings) -> None:
    p = figures.participants
    print(
        f"segment ingest: one note-taker (agent_pool.meeting), {p} participants (1 hall microphone, 2 diarized"
        f" speakers), ta/hi/en lines; NotetakerSettings batch_wait {settings.batch_wait} s, batch_size"
        f" {settings.batch_size}"
    )
    listening = figures.listening_mb - figures.before_mb
    print("1. memory (USS of this process: the note-taker, its sessions, the bench's few objects)")
    print(
        f"   before joining {figures.before_mb:.1f} MB; {p} sessions listening {figures.listening_mb:.1f} MB"
        f" -> {listening / p:.2f} MB per participant"
    )
    stored = sum(r.segments for r in figures.rounds) + (figures.warmup.segments if figures.warmup else 0)
    print(
        f"   after {stored} segments stored {figures.after_mb:.1f} MB -> {(figures.after_mb - figures.before_mb) / p:.2f}"
        f" MB per participant ({(figures.after_mb - figures.listening_mb) / stored * 1024:.2f} KB per segment heard)"
    )
    print(
        f"   of that growth: the sessions hold {figures.recorded_events} events they emitted"
        f" ({figures.recorded_events / stored:.1f} per segment; AgentSession keeps each for its session report)"
    )
    net = max(0.0, figures.listening_cores - figures.idle_cores)
    print(
        f"2. listening CPU ({figures.window_s:.0f} s, nobody speaking; silent 16 kHz microphones in 50 ms frames):"
        f" {figures.listening_cores:.3f} cores for {p} sessions, {figures.idle_cores:.3f} before joining"
    )
    print(
        f"   -> {net * 60 / p:.3f} CPU s per participant-minute of audio ({net / p * 1000:.1f} millicores per"
        " participant)"
    )
    rounds = figures.rounds
    print(
        f"3. segments stored per second: {figures.segments} final segments per participant per round"
        f" ({rounds[0].segments} a round), {len(rounds)} rounds after a warm-up, the same batches each way"
    )
    print(f"   {'round':<7}{'note-taker':>11}{'record_segments':>16}{'plain SQL':>10}{'writes':>7}{'batch p50':>10}"
          f"{'writing':>8}{'CPU ms/seg':>11}{'less listening':>15}")  # fmt: skip
    for index, r in enumerate(rounds, 1):
        net_cpu = max(0.0, r.cpu_s - figures.listening_cores * r.notetaker_s)
        print(
            f"   {index:<7}{r.rate(r.notetaker_s):11.0f}{r.rate(r.record_s):16.0f}{r.rate(r.sql_s):10.0f}"
            f"{len(r.batch_sizes):7d}{statistics.median(r.batch_sizes):10.0f}{r.writing_s / r.notetaker_s:8.0%}"
            f"{r.cpu_s / r.segments * 1000:11.2f}{net_cpu / r.segments * 1000:15.2f}"
        )
    ours = statistics.median(r.rate(r.notetaker_s) for r in rounds)
    direct = statistics.median(r.rate(r.record_s) for r in rounds)
    plain = statistics.median(r.rate(r.sql_s) for r in rounds)
    print(f"   {'median':<7}{ours:11.0f}{direct:16.0f}{plain:10.0f}  segments/s")
    sizes = [size for r in rounds for size in r.batch_sizes]
    print(
        f"   note-taker / record_segments {ours / direct:.2f}x, note-taker / plain SQL {ours / plain:.2f}x,"
        f" record_segments / plain SQL {direct / plain:.2f}x; batches p50 {statistics.median(sizes):.0f},"
        f" p95 {percentile([float(s) for s in sizes], 0.95):.0f}, min {min(sizes)} segments"
    )
    print(
        f"   the note-taker's time includes its batch_wait ({settings.batch_wait} s before its first write of a"
        " burst) and the sessions' handling of every STT event (start, interim, final, end of speech); writing:"
        " the share of it the writer spent in record_segments; CPU: this process's, per segment stored"
    )
    verdict = "met" if ours >= GOAL_PER_S else "NOT met"
    print(
        f"   goal, segments stored per second through the note-taker: {ours:.0f}/s: {verdict} (goal ≥ {GOAL_PER_S:.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--participants", type=int, default=50, help="participants, the first the hall microphone")
    parser.add_argument("--segments", type=int, default=40, help="final segments per participant per round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, after one warm-up round")
    parser.add_argument("--window", type=float, default=10.0, help="seconds of listening for the CPU figure")
    args = parser.parse_args()
    if args.participants < 2 or args.segments < 1 or args.rounds < 1:
        parser.error("at least 2 participants, 1 segment and 1 round")
    logging.disable(logging.WARNING)  # the note-taker's INFO events and the stand-ins' warnings
    started = time.perf_counter()
    with local_stack() as env:
        from agent_pool.simulate_meeting import office_host
        from mla_core.adapters import get_services
        from mla_core.db import close_pools

        [tenant] = create_tenants(env, 1, list(LANGUAGES))
        services = get_services()
        services.publish_in_background = True  # as the note-taker's `prewarm` sets it
        who = office_host(services, str(tenant["tenant_id"]))
        try:
            figures = asyncio.run(hold(services, who, args))
        finally:
            close_pools()
    report(figures, NotetakerSettings())
    print(f"({time.perf_counter() - started:.0f} s in all; a machine other work shares gives noisy figures)")


if __name__ == "__main__":
    main()
