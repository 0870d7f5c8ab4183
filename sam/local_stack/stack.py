"""The whole platform on one machine: what `make dev` runs and what the integration tests use.

Embedded Postgres, Redis behind the Upstash REST protocol, moto as AWS (Step Functions executing
the `.asl.json` that SAM deploys, with the step handlers run in-process), and stand-ins speaking
LiveKit's Twirp API and Supabase Auth's HTTP API. A service whose URL is already configured in
the environment (DATABASE_URL, UPSTASH_REDIS_REST_URL, LIVEKIT_URL, SUPABASE_URL, or
PROVISIONING_STATE_MACHINE_ARN for real AWS) is used as it is, and its stand-in is not started.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local_stack import aws, template
from local_stack.overrides import OVERRIDABLE
from local_stack.ports import free_port
from local_stack.serve import ServedApp, serve_in_thread
from mla_core.core.settings import DEVELOPMENT_VALUES

log = logging.getLogger("local_stack")

SUPERADMIN_EMAIL = "superadmin@mlavoice.example"
SES_SENDER = "no-reply@mlavoice.example"
LIVEKIT_KEY = DEVELOPMENT_VALUES["livekit_api_key"]
LIVEKIT_SECRET = DEVELOPMENT_VALUES["livekit_api_secret"]
OPENAI_KEY = "local-openai-key"
STACK_PREFIX = "mla-voice-local"


@dataclass
class LocalStack:
    """Start with `start()`, stop with `stop()`; `env` holds what a client needs (`.local/dev.env`)."""

    root: Path
    port: int = 8000
    ephemeral_ports: bool = False  # tests: every service on a free port
    fast_retries: bool = False  # tests: Step Functions retries without waiting
    schedules: bool = True  # the template's Schedule events (tests invoke those functions themselves)
    env: dict[str, str] = field(default_factory=dict)
    moto: aws.MotoHandle | None = None
    postgres: Any = None
    redis: Any = None
    websocket_gateway: Any = None
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def _port(self, offset: int) -> int:
        return 0 if self.ephemeral_ports else self.port + offset

    # ------------------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        self.root.mkdir(parents=True, exist_ok=True)
        configured = {name: os.environ[name] for name in OVERRIDABLE if os.environ.get(name)}
        self.env.update(configured)
        try:
            self._start_postgres()
            self._start_redis()
            self._start_livekit()
            self._start_supabase_auth()
            self._start_openai()
            self._start_aws()
            self._apply_env()
            self._prepare()
            self._start_gateway()
        except BaseException:
            self.stop()
            raise
        self._write_env_file()
        return self

    def stop(self) -> None:
        from mla_core.db import close_pools

        close_pools()  # before Postgres goes, or the pool keeps reconnecting to it
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # stopping the rest matters more than one failure
                log.exception("stopping a local service failed")

    # Services ---------------------------------------------------------------------------------

    def _start_postgres(self) -> None:
        if "DATABASE_URL" in self.env:
            return
        from local_stack.postgres import start_postgres

        self.postgres = start_postgres(self.root / "postgres", port=self._port(6))
        self._stops.append(lambda: self.postgres.stop() if self.postgres else None)
        self.env["DATABASE_URL"] = self.postgres.url

    def restart_postgres(self) -> None:
        """Start Postgres again on the same data and port (after a test stopped it). Every event loop
        opens a new async pool on its next use: one whose connections died with the server may be
        waiting out its reconnection back-off."""
        from local_stack.postgres import start_postgres
        from mla_core.db import forget_async_pools

        assert self.postgres is not None
        self.postgres = start_postgres(self.postgres.data_dir, port=self.postgres.port)
        forget_async_pools()

    def _start_redis(self) -> None:
        if "UPSTASH_REDIS_REST_URL" in self.env:
            return
        from local_stack.redis_server import start_redis
        from local_stack.upstash_proxy import create_app

        redis = self.redis = start_redis(port=self._port(5), data_dir=self.root / "redis")
        self._stops.append(lambda: self.redis.stop())
        token = _persistent_secret(self.root / "upstash-token")
        proxy = self._serve(create_app(redis.host, redis.port, token), self._port(3))
        self.env.update(UPSTASH_REDIS_REST_URL=proxy.url, UPSTASH_REDIS_REST_TOKEN=token)

    def restart_redis(self) -> None:
        """Start Redis again on the same data and port (after a test stopped it)."""
        from local_stack.redis_server import start_redis

        assert self.redis is not None
        self.redis = start_redis(port=self.redis.port, data_dir=self.redis.data_dir)

    def _start_livekit(self) -> None:
        # Where a meeting's recording goes (the stand-in's egress names the file, writes none).
        self.env.setdefault("MEETING_RECORDINGS_BUCKET", "mla-meeting-recordings-local")
        # A summary starts soon after its meeting ends here (a minute in AWS: the last segments' margin).
        self.env.setdefault("MEETING_SUMMARY_DELAY_S", "3")
        if "LIVEKIT_URL" in self.env:
            return
        from local_stack.livekit_standin import create_app

        served = self._serve(create_app(LIVEKIT_KEY, LIVEKIT_SECRET, self.root / "livekit.json"), self._port(1))
        self.env.update(LIVEKIT_URL=served.url, LIVEKIT_API_KEY=LIVEKIT_KEY, LIVEKIT_API_SECRET=LIVEKIT_SECRET)

    def _start_supabase_auth(self) -> None:
        if "SUPABASE_URL" in self.env:
            return
        from local_stack.supabase_auth_standin import create_app

        anon = _persistent_secret(self.root / "supabase-anon-key")
        service = _persistent_secret(self.root / "supabase-service-role-key")
        # The issuer must name the URL the stand-in answers on, so bind the port first.
        port = self._port(2) or free_port()
        base = f"http://127.0.0.1:{port}"
        app = create_app(url=base, service_role_key=service, anon_key=anon, state_path=self.root / "supabase-auth.json")
        self._serve(app, port)
        self.env.update(SUPABASE_URL=base, SUPABASE_ANON_KEY=anon, SUPABASE_SERVICE_ROLE_KEY=service)

    def _start_openai(self) -> None:
        """OpenAI's API for caller memory: the stand-in, unless a real key is set."""
        if "OPENAI_API_KEY" in self.env:
            return
        from local_stack.openai_standin import create_app

        served = self._serve(create_app(OPENAI_KEY), self._port(8))
        self.env.update(OPENAI_BASE_URL=f"{served.url}/v1", OPENAI_API_KEY=OPENAI_KEY)

    def _start_aws(self) -> None:
        if "PROVISIONING_STATE_MACHINE_ARN" in self.env:
            return
        self.moto = aws.start_moto(self._port(4))
        self._stops.append(self.moto.stop)
        if self.fast_retries:
            retries = aws.fast_retries()
            retries.__enter__()

            def stop_fast_retries() -> None:
                retries.__exit__(None, None, None)

            self._stops.append(stop_fast_retries)
        self.env.update(self.moto.env())
        self.env.setdefault("SES_FROM_EMAIL", SES_SENDER)
        # Sample DLT ids, so local SMS carry the attributes a real Indian route requires.
        self.env.setdefault("SMS_DLT_ENTITY_ID", "1101000000000000001")
        self.env.setdefault("SMS_DLT_TEMPLATE_COMPLAINT_REGISTERED", "1107000000000000001")

    def _serve(self, app: Any, port: int) -> ServedApp:
        served = serve_in_thread(app, port=port)
        self._stops.append(served.stop)
        return served

    # Wiring -----------------------------------------------------------------------------------

    def _apply_env(self) -> None:
        self.env.setdefault("DASHBOARD_URL", f"http://127.0.0.1:{self.port}")
        self.env.setdefault("ENVIRONMENT", "local")
        os.environ.update(self.env)
        _reset_cached_settings()

    def _prepare(self) -> None:
        """Migrations, the AWS resources template.yaml describes, the SIP trunk, the super admin."""
        from mla_core import cli
        from mla_core.adapters import get_services
        from mla_core.db.migrate import migrate_control_plane
        from mla_core.provisioning.reconcile import reconcile

        services = get_services()
        migrate_control_plane(services.db)
        cli.migrate(services, workers=4)
        if self.moto is not None:
            self._deploy_template()
        if not os.environ.get("LIVEKIT_SIP_TRUNK_ID"):
            self.env["LIVEKIT_SIP_TRUNK_ID"] = asyncio.run(_ensure_inbound_trunk(services))
        password = _persistent_secret(self.root / "superadmin-password", nbytes=12)
        self.env.update(SUPERADMIN_EMAIL=SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD=password)
        os.environ.update(self.env)
        _reset_cached_settings()
        cli.create_superadmin(get_services(), SUPERADMIN_EMAIL, password)
        # Tenants a crash left behind their workflow (the previous `make dev` killed mid-provisioning).
        report = reconcile(get_services())
        if report.repairs:
            log.warning(
                "reconciled tenants at start: %s", ", ".join(f"{r.tenant_id} {r.action}" for r in report.repairs)
            )

    def _deploy_template(self) -> None:
        """Every function of template.yaml registered in-process; the state machines from the same ASL."""
        assert self.moto is not None
        specs = template.functions()
        names = {spec.logical_id: f"{STACK_PREFIX}-{spec.logical_id}" for spec in specs}
        for spec in specs:
            self.moto.runner.register(names[spec.logical_id], spec.load())
        arns = aws.deploy_lambda_functions(self.moto, list(names.values()))
        role = aws.ensure_role(self.moto.client("iam"), "local-states-execution", "states.amazonaws.com")
        machines = {}
        for machine in template.state_machines():
            substitutions = {key: arns[names[target]] for key, target in machine.substitutions.items()}
            machines[machine.logical_id] = aws.deploy_state_machine(
                self.moto.client("stepfunctions"),
                machine.definition_path,
                substitutions,
                f"{STACK_PREFIX}-{machine.logical_id}",
                role,
            )
        self._start_queues(names)
        self._start_websocket_gateway(names["RealtimeFunction"])
        if self.schedules:
            self._start_schedules(names)
        self.env["PROVISIONING_STATE_MACHINE_ARN"] = machines["ProvisionStateMachine"]
        self.env["DEPROVISIONING_STATE_MACHINE_ARN"] = machines["DeprovisionStateMachine"]
        aws.verify_sender(self.moto.client("ses"), self.env["SES_FROM_EMAIL"])

    def _start_schedules(self, function_names: dict[str, str]) -> None:
        from local_stack.schedules import Schedule, rate_seconds

        assert self.moto is not None
        for source in template.schedule_sources():
            schedule = Schedule(
                self.moto.client("lambda"),
                function_name=function_names[source.function],
                every_seconds=rate_seconds(source.expression),
                region=self.env["AWS_REGION"],
            ).start()
            self._stops.append(schedule.stop)

    def _start_websocket_gateway(self, function_name: str) -> None:
        """The live-updates WebSocket API, its routes invoking the template's function through moto's Lambda."""
        import json

        from local_stack.websocket_gateway import WebSocketGateway

        if "LIVE_UPDATES_URL" in self.env:
            return
        assert self.moto is not None
        lambda_ = self.moto.client("lambda")

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            response = lambda_.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
            answer: dict[str, Any] = json.loads(response["Payload"].read() or b"{}")
            return {"statusCode": 500} if response.get("FunctionError") else answer

        self.websocket_gateway = WebSocketGateway(invoke)
        served = self._serve(self.websocket_gateway.app(), self._port(7))
        stage = self.websocket_gateway.stage
        self.env["LIVE_UPDATES_URL"] = f"ws://{served.host}:{served.port}/{stage}"
        self.env["LIVE_UPDATES_MANAGEMENT_URL"] = f"{served.url}/{stage}"

    def _start_queues(self, function_names: dict[str, str]) -> None:
        """The template's SQS queues, each polled into its function as Lambda's event source would."""
        from local_stack.queues import QueuePoller

        assert self.moto is not None
        sqs = self.moto.client("sqs")
        for source in template.queue_sources():
            url = sqs.create_queue(QueueName=f"{STACK_PREFIX}-{source.queue}", Attributes={"VisibilityTimeout": "2"})[
                "QueueUrl"
            ]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            poller = QueuePoller(
                sqs,
                self.moto.client("lambda"),
                queue_url=url,
                queue_arn=arn,
                function_name=function_names[source.function],
                batch_size=source.batch_size,
            ).start()
            self._stops.append(poller.stop)
            if source.queue == "ComplaintQueue":
                self.env["COMPLAINT_QUEUE_URL"] = url
            if source.queue == "MemoryQueue":
                self.env["MEMORY_QUEUE_URL"] = url
            if source.queue == "MeetingSummaryQueue":
                self.env["MEETING_SUMMARY_QUEUE_URL"] = url

    def _start_gateway(self) -> None:
        from local_stack.gateway import Gateway, local_routes

        local = local_routes(self.health, self.outbox)
        gateway = Gateway(
            [
                ("/admin", template.app_of("AdminFunction")),
                ("/webhooks", template.app_of("WebhooksFunction")),
                ("/health", local),
                ("/local", local),
            ],
            default=template.app_of("DashboardFunction"),
        )
        served = self._serve(gateway, 0 if self.ephemeral_ports else self.port)
        self.env["API_URL"] = served.url

    def outbox(self) -> list[dict[str, Any]]:
        """Every email and SMS sent, newest first (what a real account would have delivered)."""
        if self.moto is None:
            return []
        region = self.env["AWS_REGION"]
        messages: list[dict[str, Any]] = [dict(m) for m in (*aws.sent_emails(region), *aws.sent_sms(region))]
        return sorted(messages, key=lambda m: m["sent_at"], reverse=True)

    async def health(self) -> dict[str, bool]:
        """Is every service answering? One quick call to each."""
        env = self.env
        checks = {
            "postgres": _check_postgres,
            "redis": lambda: httpx.post(
                env["UPSTASH_REDIS_REST_URL"],
                json=["PING"],
                timeout=2,
                headers={"Authorization": f"Bearer {env['UPSTASH_REDIS_REST_TOKEN']}"},
            ).raise_for_status(),
            "livekit": lambda: asyncio.run(_check_livekit()),
            "supabase_auth": lambda: httpx.get(
                f"{env['SUPABASE_URL']}/auth/v1/health", timeout=2, headers={"apikey": env["SUPABASE_ANON_KEY"]}
            ).raise_for_status(),
        }
        if self.moto is not None:
            checks["aws"] = lambda: self.moto.client("stepfunctions").list_state_machines(maxResults=1)  # type: ignore[union-attr]

        def up(check: Callable[[], object]) -> bool:
            try:
                check()
                return True
            except Exception:
                return False

        results = await asyncio.gather(*(asyncio.to_thread(up, check) for check in checks.values()))
        return dict(zip(checks, results, strict=True))

    def _write_env_file(self) -> None:
        lines = [f"{key}={value}" for key, value in sorted(self.env.items())]
        path = self.root / "dev.env"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)


def _reset_cached_settings() -> None:
    from mla_core.adapters import get_services
    from mla_core.core.settings import get_settings

    get_settings.cache_clear()
    get_services.cache_clear()


def _persistent_secret(path: Path, nbytes: int = 24) -> str:
    """A random secret kept under `.local/`, so clients keep working across restarts."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return value


def _check_postgres() -> None:
    from mla_core.adapters import get_services

    with get_services().db.transaction() as conn:
        conn.execute("SELECT 1")


async def _check_livekit() -> None:
    from mla_core.adapters import get_services

    await get_services().livekit.find_room("health-check")


async def _ensure_inbound_trunk(services: Any) -> str:
    """The shared inbound trunk every tenant's dispatch rule hangs off (one per LiveKit project)."""
    from livekit import api

    s = services.settings
    async with api.LiveKitAPI(s.livekit_url, s.livekit_api_key, s.livekit_secret) as lk:
        trunks = await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
        for trunk in trunks.items:
            if trunk.name == "exotel-inbound":
                return trunk.sip_trunk_id
        created = await lk.sip.create_inbound_trunk(
            api.CreateSIPInboundTrunkRequest(
                # Exotel vSIP is IP-whitelisted; a real trunk lists Exotel's signalling addresses.
                trunk=api.SIPInboundTrunkInfo(name="exotel-inbound", allowed_addresses=["127.0.0.1/32"])
            )
        )
        return created.sip_trunk_id
