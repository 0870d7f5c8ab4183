"""The note-taker worker: one `AgentServer` whose job is a meeting's AI note-taker (`agent_pool.meeting`),
dispatched by name (`livekit_notetaker_agent_name`) when a meeting starts (`meetings.start` creates the room
with it). livekit-agents allows one `rtc_session` per server, so it is its own entry point in the same image
as the call agent (`agent_pool.worker`), with its own pods and sizing (`agent_pool.deploy_runpod`).

    python -m livekit.agents start agent_pool/notetaker.py   # production (the image, with this argument)
    python -m agent_pool.notetaker dev                        # local, against LIVEKIT_URL

It joins visibly as "AI note-taker", announces the recording, transcribes each participant and stores the
segments; `GET :8081/` is its health, and on SIGTERM it lets meetings in progress run for up to
`NOTETAKER_DRAIN_TIMEOUT` seconds.
"""

from __future__ import annotations

import asyncio
import logging

from livekit import rtc
from livekit.agents import AgentServer, AutoSubscribe, JobContext, JobExecutorType, JobProcess, JobRequest, cli

from agent_pool import plugins
from agent_pool.meeting import Attendee, MeetingIO, start_note_taking
from agent_pool.settings import get_notetaker_settings
from mla_core.adapters import get_services
from mla_core.core.privacy import RedactNumbers
from mla_core.core.settings import get_settings
from mla_core.live import events
from mla_core.meetings.models import NOTETAKER_IDENTITY, NOTETAKER_NAME

logger = logging.getLogger(__name__)

_PRELOAD = ["agent_pool.meeting", "mla_core.meetings.meetings", "mla_core.agents.routing", "psycopg", "psycopg_pool"]
# Who is transcribed: people in the browser (host, staff, a citizen, the hall's microphone) and phones dialled
# in; not the recorder (egress) nor another agent.
_SPEAKER_KINDS = (rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD, rtc.ParticipantKind.PARTICIPANT_KIND_SIP)


def prewarm(proc: JobProcess) -> None:
    """Per process, before any meeting: the Postgres and Redis clients. No VAD: Deepgram's live socket says
    where each utterance ends."""
    RedactNumbers.on_handlers()
    services = get_services()
    services.publish_in_background = True  # the live page's updates never hold up a transcript
    _ = services.agent_configs, services.db


def _server() -> AgentServer:
    settings = get_notetaker_settings()
    options: dict[str, object] = {}
    if settings.num_idle_processes is not None:
        options["num_idle_processes"] = settings.num_idle_processes
    executor = JobExecutorType.THREAD if settings.job_executor == "thread" else JobExecutorType.PROCESS
    return AgentServer(
        job_executor_type=executor,
        setup_fnc=prewarm,
        drain_timeout=settings.drain_timeout,
        load_threshold=settings.load_threshold,
        job_memory_warn_mb=settings.job_memory_warn_mb,
        port=settings.health_port,
        preload_modules=_PRELOAD,
        **options,  # type: ignore[arg-type]
    )


server = _server()
server.on("worker_started", RedactNumbers.on_handlers)


async def join_as_notetaker(request: JobRequest) -> None:
    """One visible note-taker per meeting: the same identity each time (a second dispatch replaces the first)."""
    await request.accept(name=NOTETAKER_NAME, identity=NOTETAKER_IDENTITY, attributes={"mla.role": "notetaker"})


@server.rtc_session(agent_name=get_settings().livekit_notetaker_agent_name, on_request=join_as_notetaker)
async def take_notes(ctx: JobContext) -> None:
    """A meeting started: its ids and languages are in the job's metadata (`meetings.room_spec`)."""
    ctx.log_context_fields = {"room": ctx.job.room.name}  # mla-<tenant>-meet-<id>: no number in it
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    io = MeetingIO(voice=plugins.PluginMeetingVoice(), room=ctx.room)
    notes = await start_note_taking(ctx.job.metadata, ctx.room.metadata, get_services(), io)
    if notes is None:
        ctx.shutdown(reason="no live meeting")
        return

    def joined(participant: rtc.RemoteParticipant) -> None:
        if participant.kind in _SPEAKER_KINDS:
            notes.on_joined(Attendee.of(participant))

    def left(participant: rtc.RemoteParticipant) -> None:
        if participant.kind in _SPEAKER_KINDS:
            notes.on_left(Attendee.of(participant))

    ctx.room.on("participant_connected", joined)
    ctx.room.on("participant_disconnected", left)
    ctx.room.on("room_metadata_changed", lambda _old, new: notes.on_room_metadata(new))
    for participant in ctx.room.remote_participants.values():
        joined(participant)

    async def close(_reason: str) -> None:
        await notes.aclose()  # the last segments stored before the process goes
        await asyncio.to_thread(events.drain, get_services())

    ctx.add_shutdown_callback(close)


if __name__ == "__main__":
    cli.run_app(server)
