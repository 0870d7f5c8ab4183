"""A meeting without LiveKit: a scripted hearing played through the real AI note-taker against the stack
`make dev` started, so a person sees a meeting's transcript (and the live page fill) without a room.

    python -m agent_pool.simulate_meeting --script agent_pool/scripts/meetings/janata_darbar.json \\
        [--tenant <id>] [--env .local/dev.env] [--keep-live]

As an office would: the meeting is scheduled and started as the office's MLA admin (the room is created at
the local LiveKit stand-in, with the note-taker dispatched), each participant is given their token (the hall
microphone is marked so), the note-taker (`agent_pool.meeting`) joins, announces the recording and
transcribes each participant from their scripted STT results (`agent_pool.testing.MeetingSTT`: what Deepgram
would send, with the hall microphone's speakers), the segments go to Postgres and the live page, and the
meeting ends. It prints the transcript and where to read it. The script's format is `SCRIPT_FORMAT`
(`--help` prints it).

Exit status: 0 every line was stored; 1 a failure, in one `FAILED: …` line; 2 no active office to hold the
meeting; 64 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from livekit.agents.testing import fake_job_context
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent_pool.meeting import Attendee, MeetingIO, NoteTaker, Transcriber, start_note_taking
from agent_pool.settings import NotetakerSettings
from agent_pool.simulate import EXIT_AGENT_FAILED, EXIT_NO_TENANT, EXIT_OK, EXIT_USAGE, default_env_file, load_env_file
from agent_pool.testing import CapturedAudio, Heard, ScriptedMeetingVoice, SilentMicrophone
from mla_core.core.privacy import RedactNumbers

if TYPE_CHECKING:
    from mla_core.adapters import Services
    from mla_core.core.principal import OfficeUser
    from mla_core.meetings.models import Meeting

SCRIPT_FORMAT = """\
A meeting script is a JSON object:
  {"title": "…", "kind": "janata_darbar" | "public_hearing" | "staff", "languages": ["ta", "hi", "en"],
   "participants": [
     {"id": "host", "name": "MLA's office", "role": "host"},      the office's host (the MLA admin's token)
     {"id": "hall", "name": "Hall microphone", "hall_microphone": true},   one device, several speakers
     {"id": "ravi", "name": "Ravi Kumar", "joins_at": 20}          a citizen; joins 20 s into the meeting
   ],
   "lines": [
     {"who": "hall", "speaker": "S0", "at": 7.0, "until": 12.0, "language": "ta", "text": "…"}
   ]}
  languages   what the meeting is held in, the main one first: the note-taker announces in each
  role        "host" or "citizen" (the default); joins_at: seconds from the start (default 0)
  at, until   seconds from the meeting's start that the line is spoken (stored as its start and end)
  speaker     on a hall microphone, which of the people at it (Deepgram's diarized speaker, "S0", "S1" …)
  language    what the STT reports for the line (ta, hi, en)
"""


class ScriptParticipant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=120)
    role: Literal["host", "citizen"] = "citizen"
    hall_microphone: bool = False
    joins_at: float = Field(default=0.0, ge=0)


class ScriptLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    who: str
    at: float = Field(ge=0)
    until: float = Field(gt=0)
    language: str
    text: str = Field(min_length=1)
    speaker: str | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> ScriptLine:
        if self.until <= self.at:
            raise ValueError(f"a line ends after it starts: {self.text[:30]}")
        return self


class MeetingScript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    kind: Literal["janata_darbar", "public_hearing", "staff"] = "janata_darbar"
    languages: list[str] = Field(min_length=1, max_length=3)
    participants: list[ScriptParticipant] = Field(min_length=1)
    lines: list[ScriptLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _lines_name_participants(self) -> MeetingScript:
        ids = {p.id for p in self.participants}
        if len(ids) != len(self.participants):
            raise ValueError("participants' ids are distinct")
        for line in self.lines:
            if line.who not in ids:
                raise ValueError(f"a line by {line.who!r}, who is not a participant")
            joined = next(p.joins_at for p in self.participants if p.id == line.who)
            if line.at < joined:
                raise ValueError(f"{line.who!r} speaks at {line.at} s, before joining at {joined} s")
        return self


def load_script(path: Path) -> MeetingScript:
    return MeetingScript.model_validate_json(path.read_text())


def office_host(services: Services, tenant_id: str) -> OfficeUser:
    """The office's MLA admin, who schedules and hosts the meeting (as they would from the dashboard)."""
    from mla_core.core.principal import OfficeUser
    from mla_core.identity import team

    acting = OfficeUser(user_id=str(uuid.uuid5(uuid.NAMESPACE_URL, tenant_id)), email="simulator@local",
                        role="mla_admin", tenant_id=tenant_id)  # fmt: skip
    admin = next((m for m in team.members(services, acting) if m["role"] == "mla_admin" and not m["disabled"]), None)
    if admin is None:
        return acting
    return OfficeUser(user_id=admin["id"], email=admin["email"], role="mla_admin", tenant_id=tenant_id)


def first_office(services: Services) -> str | None:
    from mla_core.agents.routing import active_agent_configs

    configs = active_agent_configs(services)
    return configs[0].tenant_id if configs else None


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


async def simulate(
    script: MeetingScript, *, tenant_id: str, out: TextIO = sys.stdout, keep_live: bool = False
) -> tuple[int, Meeting | None]:
    """Hold the scripted meeting; (exit status, the meeting)."""
    from mla_core.adapters import get_services
    from mla_core.db import close_pools
    from mla_core.meetings import meetings, transcript
    from mla_core.meetings.models import MeetingCreate, TokenRequest

    services = get_services()

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        who = await asyncio.to_thread(office_host, services, tenant_id)
        body = MeetingCreate(
            kind=script.kind, title=script.title, scheduled_at=datetime.now(UTC), languages=script.languages
        )
        meeting = await asyncio.to_thread(meetings.schedule, services, who, body)
        meeting = await asyncio.to_thread(meetings.start, services, who, meeting.id)
        say(f"meeting {meeting.id} live: {meeting.title} ({', '.join(meeting.languages)}), room {meeting.room_name}")
        attendees: dict[str, Attendee] = {}
        for p in script.participants:
            request = (
                TokenRequest(name=p.name)
                if p.role == "host"
                else TokenRequest(role="citizen", name=p.name, hall_microphone=p.hall_microphone)
            )
            joined = await asyncio.to_thread(meetings.token, services, who, meeting.id, request)
            attributes = {"mla.role": joined.role, "mla.hall_microphone": "1" if p.hall_microphone else "0"}
            attendees[p.id] = Attendee(joined.identity, p.name, attributes)
        voice = ScriptedMeetingVoice()
        io = MeetingIO(
            voice=voice,
            microphone=SilentMicrophone,
            loudspeaker=CapturedAudio(),
            settings=NotetakerSettings(batch_wait=0.05, retry_wait=0.5),
        )
        job = meetings.room_spec(services, tenant_id, meeting).notetaker_metadata
        room = meetings.room_metadata(tenant_id, meeting, transcribing=True)
        with fake_job_context(job_metadata=job, job_id=f"sim-meeting-{meeting.id.hex[:8]}"):
            notes = await start_note_taking(job, room, services, io)
            if notes is None:
                say("FAILED: the note-taker did not take the meeting")
                return EXIT_AGENT_FAILED, meeting
            try:
                await _play(script, notes, voice, attendees, say)
                await notes.announced()
                if not await notes.writer.drain(30):
                    say("FAILED: the segments were not stored within 30 s")
                    return EXIT_AGENT_FAILED, meeting
            finally:
                await notes.aclose()
        say(f"note-taker announced: {len(voice.spoken())} sentences; stored {notes.writer.stored} segments")
        if not keep_live:
            meeting = await asyncio.to_thread(meetings.end, services, who, meeting.id)
        held = await asyncio.to_thread(meetings.transcript, services, tenant_id, meeting.id)
        say("")
        say(transcript.as_text(held).rstrip())
        say("")
        api = os.environ.get("API_URL", "http://127.0.0.1:8000")
        say(f"transcript: GET {api}/api/meetings/{meeting.id}/transcript (also .txt and .vtt)")
        say(f"page:       {api}/app/meetings/{meeting.id}")
        if len(held.segments) != len(script.lines):
            say(f"FAILED: {len(script.lines)} lines said, {len(held.segments)} segments stored")
            return EXIT_AGENT_FAILED, meeting
        return EXIT_OK, meeting
    except Exception as exc:  # the simulator's verdict: any exception is the note-taker (or the stack) failing
        say(f"FAILED: {type(exc).__name__}: {exc}")
        return EXIT_AGENT_FAILED, None
    finally:
        await asyncio.to_thread(close_pools)


async def _play(
    script: MeetingScript,
    notes: NoteTaker,
    voice: ScriptedMeetingVoice,
    attendees: dict[str, Attendee],
    say: Callable[[str], None],
) -> None:
    """Joins and lines in the script's order, as fast as they can go; each line's STT times placed so its
    segment starts and ends when the script says (seconds from the meeting's start)."""
    started = notes.started_at.timestamp()
    events = sorted(
        [(p.joins_at, 0, p.id, None) for p in script.participants]
        + [(line.at, 1, line.who, line) for line in script.lines],
        key=lambda event: (event[0], event[1]),
    )
    for at, _, who, line in events:
        attendee = attendees[who]
        if line is None:
            await notes.join(attendee)
            say(f"[{_clock(at)}] {attendee.name} joins")
            continue
        origin = await _origin(notes, attendee.identity)
        offset = origin - started  # the participant's audio began this long after the meeting did
        voice.hear(
            attendee.identity,
            Heard(line.text, line.language, max(0.0, line.at - offset), max(0.0, line.until - offset), line.speaker),
        )
        speaker = f"{attendee.name} · {line.speaker}" if line.speaker else attendee.name
        say(f"[{_clock(at)}] {speaker} ({line.language}): {line.text}")


async def _origin(notes: NoteTaker, identity: str, within: float = 10) -> float:
    """When the note-taker began hearing `identity` (its STT stream's time 0)."""
    deadline = time.monotonic() + within
    while True:
        session = notes.sessions.get(identity)
        agent = session.current_agent if session is not None else None
        if isinstance(agent, Transcriber) and agent.origin is not None:
            return agent.origin
        if time.monotonic() > deadline:
            raise TimeoutError(f"the note-taker is not hearing {identity}")
        await asyncio.sleep(0.02)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agent_pool.simulate_meeting",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=SCRIPT_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--script", type=Path, help="the meeting's JSON script (the format: below)")
    parser.add_argument("--tenant", default=None, help="the office holding it (default: the first active one)")
    parser.add_argument("--env", type=Path, default=None, help="env file to load first (default: .local/dev.env)")
    parser.add_argument("--keep-live", action="store_true", help="leave the meeting live (its live page) at the end")
    parser.add_argument("--verbose", action="store_true", help="show the note-taker's and the domain's logs")
    args = parser.parse_args(argv)

    env_file = args.env or default_env_file()
    if args.env is not None and not env_file.exists():
        parser.error(f"{env_file} does not exist (is `make dev` running?)")
    if env_file.exists():
        load_env_file(env_file)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, stream=sys.stderr)
    RedactNumbers.on_handlers()
    if args.script is None:
        print(
            "usage: make simulate-meeting SCRIPT=agent_pool/scripts/meetings/janata_darbar.json [TENANT=<id>]",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        script = load_script(args.script)
    except (OSError, ValueError, ValidationError) as exc:
        print(f"bad script {args.script}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    tenant_id = args.tenant
    if tenant_id is None:
        from mla_core.adapters import get_services

        try:
            tenant_id = first_office(get_services())
        except Exception as exc:  # settings missing or Postgres down
            print(f"the local stack did not answer ({type(exc).__name__}): is `make dev` running?", file=sys.stderr)
            return EXIT_USAGE
    if tenant_id is None:
        print("no active office: create a tenant in the admin panel (/admin/panel/new) first", file=sys.stderr)
        return EXIT_NO_TENANT
    code, _ = asyncio.run(simulate(script, tenant_id=tenant_id, keep_live=args.keep_live))
    return code


if __name__ == "__main__":
    sys.exit(main())
