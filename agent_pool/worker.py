"""The agent worker: one `AgentServer` that answers every call the tenants' SIP dispatch rules route to it.

    python -m livekit.agents start agent_pool/worker.py      # production (what the container runs)
    python -m agent_pool.worker dev                          # local, against LIVEKIT_URL

The server serves `GET :8081/` for health checks and, on SIGTERM, stops taking calls and waits up
to `AGENT_DRAIN_TIMEOUT` seconds for the calls in progress to finish.
"""

from __future__ import annotations

import asyncio
import logging

from livekit import rtc
from livekit.agents import AgentServer, AutoSubscribe, JobContext, JobExecutorType, JobProcess, cli, room_io

from agent_pool import plugins
from agent_pool.call import CallIO, CallRequest, start_call
from agent_pool.settings import get_worker_settings
from mla_core.adapters import get_services
from mla_core.core.names import stored_room_name
from mla_core.core.privacy import RedactNumbers
from mla_core.core.settings import get_settings
from mla_core.live import events

logger = logging.getLogger(__name__)

# Imported once in the forkserver and shared by every job process (copy on write): our code, the
# domain and the drivers it needs, so a call's process starts warm.
_PRELOAD = [
    "agent_pool.call",
    "mla_core.agents.routing",
    "mla_core.complaints.intake",
    "mla_core.calls.records",
    "psycopg",
    "psycopg_pool",
    "upstash_redis",
]

# The participants a call can come from: the phone (SIP), or a browser in development.
_CALLER_KINDS = [rtc.ParticipantKind.PARTICIPANT_KIND_SIP, rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD]


def prewarm(proc: JobProcess) -> None:
    """Per process, before any call: the VAD model, and the Redis and Postgres clients."""
    RedactNumbers.on_handlers()  # a job process logs through its own root handler (to the main process)
    proc.userdata["vad"] = plugins.load_vad()
    services = get_services()
    services.publish_in_background = True  # the office's live updates never hold up a call
    _ = services.agent_configs, services.db  # build the adapters now, not during a call's setup


def _server() -> AgentServer:
    settings = get_worker_settings()
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
# livekit-agents' own lines name the room and the SIP identity (`sip_+91…`), both with the caller's number:
# masked on the main process's root handlers once the CLI has set them up, and in every job process.
server.on("worker_started", RedactNumbers.on_handlers)


@server.rtc_session(agent_name=get_settings().livekit_agent_name)
async def answer(ctx: JobContext) -> None:
    """A call arrives: the dispatch rule put the tenant in the job metadata; the SIP participant
    carries the dialed number (the fallback) and the caller's number (hidden callers have none)."""
    room_name = ctx.job.room.name  # LiveKit's, with the caller's number: for the SDK only, never logged
    ctx.log_context_fields = {"room": stored_room_name(room_name)}
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    caller = await ctx.wait_for_participant(kind=_CALLER_KINDS)
    io = CallIO(
        llm_factory=plugins.build_llm,
        voice=plugins.PluginVoiceStack(),
        vad=ctx.proc.userdata["vad"],
        room=ctx.room,
        room_options=room_io.RoomOptions(
            participant_identity=caller.identity,
            participant_kinds=_CALLER_KINDS,
            close_on_disconnect=True,  # the caller hung up: the session ends
            delete_room_on_close=True,  # the session ended (end_call, error): the caller is hung up on
        ),
    )
    request = CallRequest.from_sip(room_name, ctx.job.metadata, caller.attributes)
    run = await start_call(request, get_services(), io)

    async def record_call(_reason: str) -> None:
        await run.finish()
        await asyncio.to_thread(events.drain, get_services())  # the call's live updates, before the process goes

    # The job ends when the room goes; the call record is written before the process exits.
    ctx.add_shutdown_callback(record_call)


if __name__ == "__main__":
    cli.run_app(server)
