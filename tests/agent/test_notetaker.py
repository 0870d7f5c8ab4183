"""The AI note-taker (`agent_pool.meeting`) in a meeting without LiveKit: a real meeting scheduled and started
through the API (its room at the LiveKit stand-in), the real note-taker and its per-participant sessions, each
participant's STT scripted at the plugin interface (`agent_pool.testing.MeetingSTT`), the segments stored in
the local stack's Postgres and read back through the transcript API."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from livekit.agents import stt
from livekit.agents.testing import fake_job_context
from livekit.agents.voice.events import UserInputTranscribedEvent

from agent_pool import deploy_runpod, phrases
from agent_pool.meeting import Attendee, MeetingIO, NoteTaker, RoomState, segment_of, start_note_taking
from agent_pool.settings import NotetakerSettings
from agent_pool.testing import CapturedAudio, Heard, ScriptedMeetingVoice, SilentMicrophone
from mla_core.adapters import Services
from mla_core.db import close_pools
from mla_core.meetings.models import NOTETAKER_IDENTITY
from support import Api, tenant_body

FAST = NotetakerSettings(batch_wait=0.05, retry_wait=0.2, flush_timeout=20)


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["ta", "hi", "en"], mla_name="K. Selvi"))


def live_meeting(api: Api, office: dict[str, Any], languages: list[str], *, record: bool = True) -> dict[str, Any]:
    body = {
        "kind": "janata_darbar",
        "title": "Janata darbar, Ward 12",
        "scheduled_at": "2026-12-05T10:00:00+05:30",
        "languages": languages,
        "record": record,
    }
    meeting = api.request("POST", "/api/meetings", office["token"], json=body).json()["data"]
    started = api.request("POST", f"/api/meetings/{meeting['id']}/start", office["token"])
    assert started.status_code == 200, started.text
    return dict(started.json()["data"])


def citizen(api: Api, office: dict[str, Any], meeting: dict[str, Any], name: str, *, hall: bool = False) -> Attendee:
    """A citizen's token as the host hands it out (the hall's microphone is one): the attendee it joins as."""
    body = {"role": "citizen", "name": name, "hall_microphone": hall}
    joined = api.request("POST", f"/api/meetings/{meeting['id']}/token", office["token"], json=body).json()["data"]
    return Attendee(joined["identity"], name, {"mla.role": "citizen", "mla.hall_microphone": "1" if hall else "0"})


def host(api: Api, office: dict[str, Any], meeting: dict[str, Any]) -> Attendee:
    joined = api.request("POST", f"/api/meetings/{meeting['id']}/token", office["token"]).json()["data"]
    people = api.request("GET", f"/api/meetings/{meeting['id']}", office["token"]).json()["data"]["participants"]
    name = next(p["name"] for p in people if p["identity"] == joined["identity"])
    return Attendee(joined["identity"], name, {"mla.role": joined["role"], "mla.hall_microphone": "0"})


def room_metadata(stack: Any, meeting: dict[str, Any]) -> str:
    return str(httpx.get(f"{stack.env['LIVEKIT_URL']}/local/rooms/{meeting['room_name']}").json()["room"]["metadata"])


def transcript(api: Api, office: dict[str, Any], meeting: dict[str, Any]) -> list[dict[str, Any]]:
    return list(
        api.request("GET", f"/api/meetings/{meeting['id']}/transcript", office["token"]).json()["data"]["segments"]
    )


async def stored(
    api: Api, office: dict[str, Any], meeting: dict[str, Any], count: int, within: float = 15
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        segments = await asyncio.to_thread(transcript, api, office, meeting)
        if len(segments) >= count or time.monotonic() > deadline:
            return segments
        await asyncio.sleep(0.05)


@dataclass
class Room:
    """A meeting's note-taker with everything it hears and says captured."""

    notes: NoteTaker
    voice: ScriptedMeetingVoice
    loudspeaker: CapturedAudio
    captions: list[tuple[str, UserInputTranscribedEvent]] = field(default_factory=list)

    def hear(self, who: Attendee, *lines: Heard) -> None:
        self.voice.hear(who.identity, *lines)


@contextlib.asynccontextmanager
async def note_taker(
    services: Services, stack: Any, office: dict[str, Any], meeting: dict[str, Any]
) -> AsyncIterator[Room]:
    voice, loudspeaker = ScriptedMeetingVoice(), CapturedAudio()
    captions: list[tuple[str, UserInputTranscribedEvent]] = []
    io = MeetingIO(
        voice=voice,
        microphone=SilentMicrophone,
        captions=lambda identity, event: captions.append((identity, event)),
        loudspeaker=loudspeaker,
        settings=FAST,
    )
    job = json.dumps(
        {
            "tenant_id": office["tenant_id"],
            "meeting_id": meeting["id"],
            "languages": meeting["languages"],
            "kind": meeting["kind"],
        }
    )
    with fake_job_context(job_metadata=job, job_id=f"notes-{meeting['id'][:8]}"):
        notes = await start_note_taking(job, room_metadata(stack, meeting), services, io)
        assert notes is not None
        try:
            yield Room(notes, voice, loudspeaker, captions)
        finally:
            await notes.aclose()


def announcement(languages: list[str], *, recorded: bool = True) -> list[str]:
    return [phrases.meeting_announcement(language, recorded=recorded) for language in languages]


async def test_a_hearing_is_transcribed_per_participant_and_per_speaker_in_order(
    api: Api, office: dict[str, Any], services: Services, stack: Any
) -> None:
    meeting = live_meeting(api, office, ["ta", "hi"])
    selvi, murugan = host(api, office, meeting), citizen(api, office, meeting, "Murugan")
    hall = citizen(api, office, meeting, "Hall microphone", hall=True)

    async with note_taker(services, stack, office, meeting) as room:
        for attendee in (selvi, hall, murugan):
            await room.notes.join(attendee)
        await room.notes.announced()
        room.hear(selvi, Heard("வணக்கம், குறைகளைச் சொல்லுங்கள்.", "ta", 1.0, 3.0))
        room.hear(hall, Heard("எங்கள் தெருவில் தண்ணீர் வரவில்லை.", "ta", 4.0, 6.0, speaker="S0"))
        room.hear(hall, Heard("हमारी सड़क पर बत्ती नहीं जलती।", "hi", 7.0, 9.0, speaker="S1"))
        room.hear(murugan, Heard("मेरी पेंशन तीन महीने से नहीं आई।", "hi", 10.0, 12.5))
        segments = await stored(api, office, meeting, 4)

    assert [(s["text"], s["language"], s["speaker"]) for s in segments] == [
        ("வணக்கம், குறைகளைச் சொல்லுங்கள்.", "ta", selvi.name),
        ("எங்கள் தெருவில் தண்ணீர் வரவில்லை.", "ta", "Hall microphone · S0"),
        ("हमारी सड़क पर बत्ती नहीं जलती।", "hi", "Hall microphone · S1"),
        ("मेरी पेंशन तीन महीने से नहीं आई।", "hi", "Murugan"),
    ]
    assert all(s["end_ms"] - s["start_ms"] == pytest.approx(2000, abs=600) for s in segments[:3])
    assert [s["speaker_label"] for s in segments] == [None, "S0", "S1", None]
    assert room.voice.ears[hall.identity].diarize and not room.voice.ears[murugan.identity].diarize
    # The host heard the recording announced in the meeting's languages as they joined; the two who joined
    # right after them share the next announcement.
    assert room.voice.spoken() == announcement(["ta", "hi"]) * 2 and room.loudspeaker.seconds > 0
    # The room's live captions: each participant's interim and final words, as theirs.
    finals = [(who, event.transcript) for who, event in room.captions if event.is_final]
    assert (hall.identity, "हमारी सड़क पर बत्ती नहीं जलती।") in finals
    assert any(not event.is_final for _, event in room.captions)
    people = {
        p["identity"]: p
        for p in api.request("GET", f"/api/meetings/{meeting['id']}", office["token"]).json()["data"]["participants"]
    }
    assert people[NOTETAKER_IDENTITY]["role"] == "notetaker" and people[NOTETAKER_IDENTITY]["left_at"] is not None
    assert people[hall.identity]["joined_at"] is not None and people[hall.identity]["hall_microphone"] is True


async def test_stopping_the_recording_stops_the_transcript_and_says_so(
    api: Api, office: dict[str, Any], services: Services, stack: Any
) -> None:
    meeting = live_meeting(api, office, ["ta", "en"])
    lakshmi = citizen(api, office, meeting, "Lakshmi")

    async with note_taker(services, stack, office, meeting) as room:
        await room.notes.join(lakshmi)
        room.hear(lakshmi, Heard("பஸ் நிறுத்தம் வேண்டும்.", "ta", 1.0, 2.5))
        assert len(await stored(api, office, meeting, 1)) == 1

        stop = api.request("POST", f"/api/meetings/{meeting['id']}/recording/stop", office["token"])
        assert stop.status_code == 200
        room.notes.on_room_metadata(room_metadata(stack, meeting))  # LiveKit's room_metadata_changed
        await wait_for(lambda: not room.notes.transcribing and not room.notes.sessions)
        late = citizen(api, office, meeting, "Ravi")
        await room.notes.join(late)  # a newcomer after the stop: present, not transcribed, not told of a recording
        await room.notes.announced()

        assert late.identity not in room.notes.sessions
        assert room.voice.spoken() == [
            *announcement(["ta", "en"]),
            *(phrases.meeting_recording_stopped(x) for x in ("ta", "en")),
        ]
        await asyncio.sleep(0.3)
    assert [s["text"] for s in transcript(api, office, meeting)] == ["பஸ் நிறுத்தம் வேண்டும்."]


async def test_who_joins_later_hears_the_announcement_and_is_transcribed(
    api: Api, office: dict[str, Any], services: Services, stack: Any
) -> None:
    meeting = live_meeting(api, office, ["hi", "en"], record=False)
    first, later = citizen(api, office, meeting, "Sunita"), citizen(api, office, meeting, "Arjun")

    async with note_taker(services, stack, office, meeting) as room:
        await room.notes.join(first)
        await room.notes.announced()
        assert room.voice.spoken() == announcement(["hi", "en"], recorded=False)  # transcribed, not recorded

        await room.notes.join(later)
        await room.notes.announced()
        room.hear(later, Heard("The drain near the school is blocked.", "en-IN", 2.0, 4.0))
        [segment] = await stored(api, office, meeting, 1)

    assert room.voice.spoken() == announcement(["hi", "en"], recorded=False) * 2
    assert segment["speaker"] == "Arjun" and segment["language"] == "en"


async def test_a_retried_write_and_a_final_heard_twice_store_each_segment_once(
    api: Api, office: dict[str, Any], services: Services, stack: Any
) -> None:
    meeting = live_meeting(api, office, ["ta", "hi"])
    hall = citizen(api, office, meeting, "Hall microphone", hall=True)

    async with note_taker(services, stack, office, meeting) as room:
        await room.notes.join(hall)
        close_pools()
        stack.postgres.stop()  # Postgres goes away mid-meeting
        try:
            said = Heard("சாலை பழுதாகியுள்ளது.", "ta", 1.0, 2.0, speaker="S0")
            room.hear(hall, said, said)  # Deepgram re-sends a final after a reconnect: same words, times, speaker
            room.hear(hall, Heard("पानी की समस्या है।", "hi", 3.0, 4.0, speaker="S1"))
            await wait_for(lambda: room.notes.writer.failed_writes >= 1)
        finally:
            stack.restart_postgres()
            await asyncio.to_thread(_wait_for_database, services)
        assert await room.notes.writer.drain(20)
        segments = await stored(api, office, meeting, 2)

    assert [s["text"] for s in segments] == ["சாலை பழுதாகியுள்ளது.", "पानी की समस्या है।"]
    assert room.notes.writer.stored == 2


def test_a_final_result_becomes_a_segment_on_the_meetings_timeline() -> None:
    data = stt.SpeechData(
        language="hi-Latn", text="  sadak   toot gayi hai ", start_time=2.5, end_time=4.0, speaker_id="S2"
    )  # type: ignore[arg-type]
    common: dict[str, Any] = {
        "identity": "citizen:ab12",
        "origin": 1_000.0,
        "meeting_start": 990.0,
        "heard_at": 1_004.2,
    }

    hall = segment_of(data, diarized=True, languages=["ta", "hi"], **common)
    own = segment_of(data, diarized=False, languages=["ta", "hi"], **common)
    untimed = segment_of(
        stt.SpeechData(language="fr", text="bonjour"), diarized=False, languages=["ta", "hi"], **common
    )  # type: ignore[arg-type]

    assert hall is not None and own is not None and untimed is not None
    assert (hall.start_ms, hall.end_ms, hall.language, hall.text) == (12_500, 14_000, "hi", "sadak toot gayi hai")
    assert hall.speaker_label == "S2" and own.speaker_label is None and hall.segment_key != own.segment_key
    assert hall == segment_of(data, diarized=True, languages=["ta", "hi"], **common)  # the same words, the same key
    assert (untimed.start_ms, untimed.end_ms, untimed.language) == (14_200, 14_200, "ta")
    assert segment_of(stt.SpeechData(language="ta", text="  "), diarized=False, languages=["ta"], **common) is None  # type: ignore[arg-type]


def test_the_room_metadata_says_whether_to_transcribe() -> None:
    assert RoomState.of('{"transcribing": false, "recording": false}') == RoomState(transcribing=False, recording=False)
    assert RoomState.of("") == RoomState(transcribing=True, recording=True)
    assert RoomState.of("not json").transcribing is True


async def test_a_job_for_a_meeting_that_is_not_live_takes_no_notes(
    api: Api, office: dict[str, Any], services: Services
) -> None:
    body = {"kind": "staff", "title": "Staff meeting", "scheduled_at": "2026-12-05T10:00:00+05:30"}
    scheduled = api.request("POST", "/api/meetings", office["token"], json=body).json()["data"]
    io = MeetingIO(voice=ScriptedMeetingVoice(), settings=FAST)
    for job in (
        json.dumps({"tenant_id": office["tenant_id"], "meeting_id": scheduled["id"]}),
        json.dumps({"tenant_id": office["tenant_id"], "meeting_id": str(uuid.uuid4())}),
        "",
    ):
        assert await start_note_taking(job, "", services, io) is None


async def wait_for(condition: Callable[[], bool], within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _wait_for_database(services: Services, within: float = 15) -> None:
    from mla_core.core.errors import TransientError

    deadline = time.monotonic() + within
    while True:
        try:
            with services.db.transaction() as conn:
                conn.execute("SELECT 1")
            return
        except TransientError:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_the_notetaker_deploys_to_pods_of_its_own_sized_by_participants(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        *deploy_runpod.NOTETAKER_REQUIRED,
        *deploy_runpod.NOTETAKER_OPTIONAL,
        "RUNPOD_API_KEY",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / "notetaker.env"
    env.write_text("".join(f"{name}=value-of-{name.lower()}-0123456789\n" for name in deploy_runpod.NOTETAKER_REQUIRED))
    out = io.StringIO()
    with redirect_stdout(out):
        args = [
            "--worker",
            "notetaker",
            "--image",
            "img:1",
            "--env-file",
            str(env),
            "--peak-participants",
            "120",
            "--dry-run",
        ]
        code = deploy_runpod.main(args)

    assert code == 0, out.getvalue()
    assert out.getvalue().count("create pod mla-notetaker-") == 3  # ceil(120 / 60) + 1 spare
    assert "args agent_pool/notetaker.py --log-format json" in out.getvalue()
    assert "OPENAI_API_KEY" not in out.getvalue()  # no LLM in a meeting
    with pytest.raises(SystemExit):
        deploy_runpod.main(
            ["--worker", "notetaker", "--image", "img:1", "--env-file", str(env), "--peak-calls", "9", "--dry-run"]
        )
