"""Deploy the agent workers to RunPod: one pod template (the image and its secrets) and N CPU pods, per worker.

    RUNPOD_API_KEY=… python -m agent_pool.deploy_runpod --image ghcr.io/you/mla-voice-agent:1.4.0 \\
        --env-file prod.env --peak-calls 60 [--dry-run]
    RUNPOD_API_KEY=… python -m agent_pool.deploy_runpod --worker notetaker --image ghcr.io/you/mla-voice-agent:1.4.0 \\
        --env-file prod.env --peak-participants 120 [--dry-run]

The call agent (`agent_pool/worker.py`) and the meetings' note-taker (`agent_pool/notetaker.py`) run from the
same image, each on pods of its own (`--worker`), sized by what loads it: calls, or meeting participants.

Idempotent: the template is created, or updated in place when it exists (RunPod's `saveTemplate`
with its id). Pods are named after a revision (a hash of the image, the settings and the instance
type), so running it again with nothing changed does nothing, and a new image creates the new
revision's pods first and then terminates the old ones (each worker drains its calls on SIGTERM;
`--keep-old` leaves them running for you to stop once their calls end).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# What the worker reads. Secrets are masked when printed and can be RunPod secret references.
REQUIRED = (
    "LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "DEEPGRAM_API_KEY", "OPENAI_API_KEY",
    "CARTESIA_API_KEY", "DATABASE_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "COMPLAINT_QUEUE_URL",
)  # fmt: skip
OPTIONAL = (
    "SARVAM_API_KEY", "AWS_SESSION_TOKEN", "LIVEKIT_AGENT_NAME", "SMS_SENDER_ID", "SMS_DLT_ENTITY_ID",
    "SMS_DLT_TEMPLATE_COMPLAINT_REGISTERED", "SMS_DLT_TEMPLATE_IDS", "ENVIRONMENT", "AGENT_DRAIN_TIMEOUT", "AGENT_LOAD_THRESHOLD",
    "AGENT_NUM_IDLE_PROCESSES", "AGENT_ENDPOINTING_MIN_DELAY", "AGENT_ENDPOINTING_MAX_DELAY",
    "AGENT_INTERRUPTION_MIN_WORDS", "AGENT_APOLOGY_LANGUAGE", "MEMORY_QUEUE_URL",
)  # fmt: skip
SECRETS = {
    "LIVEKIT_API_SECRET", "DEEPGRAM_API_KEY", "OPENAI_API_KEY", "CARTESIA_API_KEY", "SARVAM_API_KEY",
    "DATABASE_URL", "UPSTASH_REDIS_REST_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
}  # fmt: skip

NOTETAKER_REQUIRED = (
    "LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "DEEPGRAM_API_KEY", "CARTESIA_API_KEY",
    "DATABASE_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN",
)  # fmt: skip
NOTETAKER_OPTIONAL = (
    "SARVAM_API_KEY", "LIVEKIT_NOTETAKER_AGENT_NAME", "ENVIRONMENT", "NOTETAKER_DRAIN_TIMEOUT",
    "NOTETAKER_LOAD_THRESHOLD", "NOTETAKER_NUM_IDLE_PROCESSES", "NOTETAKER_JOB_MEMORY_WARN_MB",
    "NOTETAKER_BATCH_WAIT",
)  # fmt: skip

SESSIONS_PER_POD = 40  # measured, not LiveKit's general 25: see SIZING
PARTICIPANTS_PER_POD = 60  # see NOTETAKER_SIZING
HEALTH_PORT = "8081/http"

SIZING = """\
sizing:
  One cpu3c-4-8 pod (4 vCPU, 8 GB) takes 40 concurrent calls. Measured with calls heard as audio
  (`python -m bench.agent_audio`: real Silero VAD, the session, our agent, one process per call as
  in production): 0.057 cores and 72 MB (USS) per call, keeping real-time pace at 20 calls on 2
  cores; a worker stops taking calls at CPU load 0.7 (AGENT_LOAD_THRESHOLD), so 4 cores carry 48
  by CPU and 8 GB about 98 by memory. 40 leaves room for what the bench cannot run here (WebRTC's
  Opus decoding and encoding, the STT/TTS/LLM websockets); LiveKit's general rule is 25 per pod.
  Pods = ceil(peak concurrent calls / 40) + 1 spare, so a rollout or a failed pod never drops
  below the peak: --peak-calls 60 gives 2 + 1 = 3 pods. No GPU is needed: STT, LLM and TTS are
  APIs. Put the pods near your LiveKit region (India for Indian SIP), e.g. with --country-code.
"""


NOTETAKER_SIZING = """\
note-taker sizing (--worker notetaker):
  It runs one STT stream (Deepgram's live socket) and one listening session per participant, no LLM, and
  one process per meeting, so pods are sized by the peak of participants in all meetings at once. One
  cpu3c-4-8 pod (4 vCPU, 8 GB) takes 60 participants. Measured offline (tests' note-taker, 50 participants
  in one meeting, silence at 20 fps each, segments stored in the local Postgres): 0.0084 cores and 5.1 MB
  (USS) per participant, 843 segments stored per second. WebRTC's Opus decoding and the websocket's TLS
  are not in that figure: counting 0.03 cores per participant, 4 cores at load 0.7 carry about 90; 60
  leaves room for meetings' own processes (about 170 MB each, as a call's) and for bursts of speech.
  Pods = ceil(peak participants / 60) + 1 spare: --peak-participants 120 gives 2 + 1 = 3 pods. One
  meeting is one process (one event loop): past about 100 participants in one meeting, split the hall
  into rooms. No GPU; the announcements' TTS is Cartesia's API.
"""


@dataclass(frozen=True)
class Worker:
    """One of the image's workers, as RunPod runs it."""

    default_name: str
    docker_args: str  # the image's arguments: which entry point (empty: the image's default, the call agent)
    required: tuple[str, ...]
    optional: tuple[str, ...]
    per_pod: int
    sizing: str


WORKERS = {
    "agent": Worker("mla-voice-agent", "", REQUIRED, OPTIONAL, SESSIONS_PER_POD, SIZING),
    "notetaker": Worker(
        "mla-notetaker",
        "agent_pool/notetaker.py --log-format json",
        NOTETAKER_REQUIRED,
        NOTETAKER_OPTIONAL,
        PARTICIPANTS_PER_POD,
        NOTETAKER_SIZING,
    ),
}


class RunPod(Protocol):
    """The few RunPod operations a deployment needs (the `runpod` SDK, or a fake in tests)."""

    def templates(self) -> list[dict[str, Any]]: ...
    def save_template(self, spec: dict[str, Any], template_id: str | None) -> dict[str, Any]: ...
    def pods(self) -> list[dict[str, Any]]: ...
    def create_pod(self, name: str, spec: PodSpec, template_id: str) -> dict[str, Any]: ...
    def terminate_pod(self, pod_id: str) -> None: ...


@dataclass(frozen=True)
class PodSpec:
    image: str
    instance_id: str
    cloud_type: str = "SECURE"
    country_code: str | None = None
    data_center_id: str | None = None
    container_disk_gb: int = 10


@dataclass
class Plan:
    """What a deployment does; printed as is by --dry-run."""

    template_name: str
    template: dict[str, Any]
    template_id: str | None
    revision: str
    create: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    terminate: list[dict[str, Any]] = field(default_factory=list)

    def describe(self, masked_env: Mapping[str, str]) -> str:
        action = f"update template {self.template_id}" if self.template_id else "create template"
        lines = [f"{action} {self.template_name!r}: image {self.template['imageName']}, ports {HEALTH_PORT}"]
        if self.template["dockerArgs"]:
            lines.append(f"  args {self.template['dockerArgs']}")
        lines += [f"  env {key}={value}" for key, value in sorted(masked_env.items())]
        lines += [f"create pod {name}" for name in self.create]
        lines += [f"keep pod {name}" for name in self.keep]
        lines += [f"terminate pod {pod['name']} ({pod['id']}), an older revision" for pod in self.terminate]
        return "\n".join(lines)


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def worker_env(
    source: Mapping[str, str], *, secret_refs: bool, worker: Worker = WORKERS["agent"]
) -> tuple[dict[str, str], list[str]]:
    """The worker's environment from `source`, and the required names that are missing.

    With `secret_refs`, secrets become RunPod secret references (`{{ RUNPOD_SECRET_openai_api_key }}`)
    that you create once in the RunPod console, so their values never travel in the template.
    """
    env: dict[str, str] = {}
    missing: list[str] = []
    for name in (*worker.required, *worker.optional):
        if secret_refs and name in SECRETS and (name in worker.required or source.get(name)):
            env[name] = f"{{{{ RUNPOD_SECRET_{name.lower()} }}}}"
        elif source.get(name):
            env[name] = source[name]
        elif name in worker.required:
            missing.append(name)
    return env, missing


def masked(env: Mapping[str, str]) -> dict[str, str]:
    def mask(name: str, value: str) -> str:
        if name not in SECRETS or value.startswith("{{"):
            return value
        return "****" + value[-4:] if len(value) > 12 else "****"

    return {name: mask(name, value) for name, value in env.items()}


def pods_for(peak_calls: int, sessions_per_pod: int = SESSIONS_PER_POD) -> int:
    """Pods for a peak of concurrent calls (or the note-taker's participants, with its `per_pod`): 40 calls
    per 4 vCPU/8 GB (measured), plus one spare."""
    return math.ceil(peak_calls / sessions_per_pod) + 1


def revision(spec: PodSpec, env: Mapping[str, str], docker_args: str = "") -> str:
    facts: dict[str, Any] = {"spec": spec.__dict__, "env": dict(sorted(env.items()))}
    if docker_args:
        facts["args"] = docker_args
    material = json.dumps(facts, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:8]


def template_spec(name: str, spec: PodSpec, env: Mapping[str, str], docker_args: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "imageName": spec.image,
        "dockerArgs": docker_args,  # empty: the image's default command starts the call agent
        "containerDiskInGb": spec.container_disk_gb,
        "volumeInGb": 0,
        "ports": HEALTH_PORT,
        "env": [{"key": key, "value": value} for key, value in sorted(env.items())],
        "isServerless": False,
    }


def plan(
    client: RunPod | None, name: str, spec: PodSpec, env: Mapping[str, str], pods: int, docker_args: str = ""
) -> Plan:
    """Compare what should run with what runs (nothing is known without a client: an offline plan)."""
    rev = revision(spec, env, docker_args)
    wanted = [f"{name}-{rev}-{index:02d}" for index in range(1, pods + 1)]
    existing_template = next((t for t in (client.templates() if client else []) if t.get("name") == name), None)
    result = Plan(
        template_name=name,
        template=template_spec(name, spec, env, docker_args),
        template_id=existing_template["id"] if existing_template else None,
        revision=rev,
    )
    running = [p for p in (client.pods() if client else []) if str(p.get("name", "")).startswith(f"{name}-")]
    running_names = {p["name"] for p in running}
    result.create = [pod for pod in wanted if pod not in running_names]
    result.keep = [pod for pod in wanted if pod in running_names]
    result.terminate = [p for p in running if p["name"] not in wanted]
    return result


def apply(client: RunPod, plan: Plan, spec: PodSpec, *, keep_old: bool, out: Any = sys.stdout) -> None:
    saved = client.save_template(plan.template, plan.template_id)
    print(f"template {saved.get('id')} saved", file=out)
    for name in plan.create:
        pod = client.create_pod(name, spec, saved["id"])
        print(f"pod {name} created: {pod.get('id')}", file=out)
    if keep_old:
        for pod in plan.terminate:
            print(f"pod {pod['name']} ({pod['id']}) left running: stop it once its calls have drained", file=out)
        return
    for pod in plan.terminate:
        client.terminate_pod(pod["id"])
        print(f"pod {pod['name']} terminated", file=out)


class SdkRunPod:
    """The runpod SDK. Templates are saved through GraphQL directly: the SDK's `create_template`
    cannot update, and it pastes values into the query unescaped (a quote in a secret breaks it)."""

    def __init__(self, api_key: str) -> None:
        import runpod

        runpod.api_key = api_key
        self._runpod = runpod

    def _graphql(self, query: str) -> dict[str, Any]:
        from runpod.api.graphql import run_graphql_query

        return run_graphql_query(query)["data"]

    def templates(self) -> list[dict[str, Any]]:
        data = self._graphql("query { myself { podTemplates { id name imageName } } }")
        return list(data["myself"]["podTemplates"] or [])

    def save_template(self, spec: dict[str, Any], template_id: str | None) -> dict[str, Any]:
        fields = {**spec, **({"id": template_id} if template_id else {})}
        rendered = ", ".join(f"{key}: {_graphql_value(value)}" for key, value in fields.items())
        data = self._graphql(f"mutation {{ saveTemplate(input: {{ {rendered} }}) {{ id name imageName }} }}")
        return dict(data["saveTemplate"])

    def pods(self) -> list[dict[str, Any]]:
        return list(self._runpod.get_pods())

    def create_pod(self, name: str, spec: PodSpec, template_id: str) -> dict[str, Any]:
        pod = self._runpod.create_pod(
            name,
            image_name=spec.image,
            gpu_type_id=None,  # a CPU pod: STT, LLM and TTS are remote APIs
            instance_id=spec.instance_id,
            cloud_type=spec.cloud_type,
            country_code=spec.country_code,
            data_center_id=spec.data_center_id,
            template_id=template_id,
            container_disk_in_gb=spec.container_disk_gb,
            ports=HEALTH_PORT,
            start_ssh=False,
        )
        return dict(pod)

    def terminate_pod(self, pod_id: str) -> None:
        self._runpod.terminate_pod(pod_id)


def _graphql_value(value: Any) -> str:
    """A GraphQL literal: JSON strings are valid GraphQL strings; object keys are bare names."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key}: {_graphql_value(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_graphql_value(item) for item in value) + "]"
    return json.dumps(value)


def main(argv: Sequence[str] | None = None, *, client: RunPod | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agent_pool.deploy_runpod",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=SIZING + "\n" + NOTETAKER_SIZING,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--image", required=True, help="the agent image, e.g. ghcr.io/you/mla-voice-agent:1.4.0")
    parser.add_argument(
        "--worker",
        choices=sorted(WORKERS),
        default="agent",
        help="the call agent (default) or the meetings' note-taker",
    )
    parser.add_argument("--name", default=None, help="template name and pod name prefix (default: the worker's)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--pods", type=int, default=None, help="how many pods (default 2)")
    size.add_argument("--peak-calls", type=int, default=None, help="size for this many concurrent calls")
    size.add_argument(
        "--peak-participants", type=int, default=None, help="the note-taker: size for this many people in meetings"
    )
    parser.add_argument("--gpu", choices=["none"], default="none", help="GPU type: none (CPU pods)")
    parser.add_argument("--instance", default="cpu3c-4-8", help="RunPod CPU instance id (4 vCPU, 8 GB)")
    parser.add_argument("--cloud-type", choices=["SECURE", "COMMUNITY", "ALL"], default="SECURE")
    parser.add_argument("--country-code", default=None, help="place pods in this country")
    parser.add_argument("--data-center", default=None, help="place pods in this RunPod data center")
    parser.add_argument("--env-file", type=Path, default=None, help="KEY=value lines; override the environment")
    parser.add_argument("--secret-refs", action="store_true", help="reference RunPod secrets instead of values")
    parser.add_argument("--keep-old", action="store_true", help="do not terminate an older revision's pods")
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    args = parser.parse_args(argv)

    worker = WORKERS[args.worker]
    peak = args.peak_participants if args.worker == "notetaker" else args.peak_calls
    if (args.worker == "notetaker" and args.peak_calls) or (args.worker == "agent" and args.peak_participants):
        parser.error("--peak-calls sizes the call agent, --peak-participants the note-taker")
    name = args.name or worker.default_name
    source = dict(os.environ)
    if args.env_file:
        source.update(read_env_file(args.env_file))
    env, missing = worker_env(source, secret_refs=args.secret_refs, worker=worker)
    if missing:
        print(f"missing settings: {', '.join(missing)}", file=sys.stderr)
        return 2
    pods = args.pods if args.pods is not None else pods_for(peak, worker.per_pod) if peak else 2
    spec = PodSpec(
        image=args.image,
        instance_id=args.instance,
        cloud_type=args.cloud_type,
        country_code=args.country_code,
        data_center_id=args.data_center,
    )
    api_key = source.get("RUNPOD_API_KEY")
    if client is None and api_key:
        client = SdkRunPod(api_key)
    if client is None and not args.dry_run:
        print("RUNPOD_API_KEY is not set", file=sys.stderr)
        return 2
    the_plan = plan(client, name, spec, env, pods, worker.docker_args)
    if args.dry_run:
        offline = " (offline: existing pods and templates unknown)" if client is None else ""
        print(f"dry run, revision {the_plan.revision}, {pods} pods of {args.instance}{offline}")
        print(the_plan.describe(masked(env)))
        return 0
    assert client is not None
    apply(client, the_plan, spec, keep_old=args.keep_old)
    return 0


if __name__ == "__main__":
    sys.exit(main())
