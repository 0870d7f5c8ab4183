"""Webhook ingest: LiveKit events per second in one process, through the real handler path.

Each event goes through the Lambda entry in-process, as API Gateway delivers it: `webhooks_api.handler`
(Powertools → Mangum → FastAPI → signature and body hash checked by livekit-api's WebhookReceiver
→ dedupe record and call-row upsert in one statement). The database is an embedded Postgres with
the control and tenant migrations and one registered tenant. The events are those of whole calls
(room_started, participant_joined SIP, participant_left, room_finished, egress_ended), signed
beforehand as LiveKit signs them. Logs are formatted as in Lambda and written to /dev/null.

Baseline in the same run: as many plain INSERTs into platform.webhook_events, one statement each on
a connection from the same pool. Also shown, to place the cost: retried events (dedupe hits), the
domain function alone, and the signature check alone. Goal: ≥ 500 events/s. Each round uses fresh
events; medians over the rounds.
Run: `.venv/bin/python -m bench.webhook_ingest [--calls 200] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from google.protobuf.json_format import MessageToJson
from livekit import api

from local_stack.postgres import start_postgres
from local_stack.template import function
from mla_core.adapters import get_services
from mla_core.calls import webhook_events
from mla_core.core.settings import get_settings
from mla_core.db import Database, close_pools, get_pool
from mla_core.db.migrate import migrate_control_plane, migrate_tenant

KEY = "benchkey"
SECRET = "bench-secret-bench-secret-bench-0123"
TENANT = "bench00001"
Signed = tuple[str, str]  # (body, Authorization)


def register_tenant(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages,"
            " admin_email, schema_name, room_name) VALUES (%s, 'active', 'Bench', 'Bench', 'Tamil Nadu',"
            " '{ta}', 'bench@example.in', %s, %s)",
            (TENANT, f"tenant_{TENANT}", f"mla-{TENANT}"),
        )
    migrate_tenant(db, f"tenant_{TENANT}")


def whole_call(index: int, start: int) -> list[api.WebhookEvent]:
    caller = f"+9198{index % 10**8:08d}"
    room = api.Room(sid=f"RM_{secrets.token_hex(6)}", name=f"mla-{TENANT}-call_{caller}_{secrets.token_hex(3)}")
    sip = api.ParticipantInfo(
        identity=f"sip_{caller}",
        kind=api.ParticipantInfo.Kind.SIP,
        attributes={"sip.phoneNumber": caller, "sip.trunkPhoneNumber": "+914440001234"},
    )
    left = api.ParticipantInfo()
    left.CopyFrom(sip)
    left.disconnect_reason = api.DisconnectReason.CLIENT_INITIATED
    egress = api.EgressInfo(
        room_name=room.name,
        status=api.EgressStatus.EGRESS_COMPLETE,
        file_results=[api.FileInfo(location=f"s3://mla-recordings/{room.name}.ogg")],
    )
    finished = api.WebhookEvent(event="room_finished", created_at=start + 90, room=room)
    finished.room_end_reason = api.RoomEndReason.ROOM_END_API_DELETE
    events = [
        api.WebhookEvent(event="room_started", created_at=start, room=room),
        api.WebhookEvent(event="participant_joined", created_at=start + 1, room=room, participant=sip),
        api.WebhookEvent(event="participant_left", created_at=start + 88, room=room, participant=left),
        finished,
        api.WebhookEvent(event="egress_ended", created_at=start + 95, egress_info=egress),
    ]
    for event in events:
        event.id = f"EV_{secrets.token_hex(8)}"
    return events


def sign(event: api.WebhookEvent) -> Signed:
    body = MessageToJson(event)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = api.AccessToken(KEY, SECRET).with_sha256(digest).with_ttl(timedelta(minutes=30)).to_jwt()
    return body, token


def signed_round(calls: int, first_call: int) -> list[Signed]:
    start = int(time.time()) - 3600
    return [sign(event) for i in range(calls) for event in whole_call(first_call + i, start)]


CONTEXT = SimpleNamespace(
    function_name="WebhooksFunction",
    function_version="$LATEST",
    memory_limit_in_mb=512,
    aws_request_id="bench",
    invoked_function_arn="arn:aws:lambda:ap-south-1:123456789012:function:WebhooksFunction",
)


def gateway_event(body: str, token: str) -> dict[str, Any]:
    """What API Gateway's HTTP API hands the function for LiveKit's POST."""
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/livekit",
        "rawPath": "/webhooks/livekit",
        "rawQueryString": "",
        "headers": {"authorization": token, "content-type": "application/webhook+json", "host": "api.example"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example",
            "requestId": "bench",
            "http": {"method": "POST", "path": "/webhooks/livekit", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "routeKey": "POST /webhooks/livekit",
            "stage": "$default",
            "timeEpoch": 1763719200000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def invoke_all(events: list[Signed], expect: str) -> float:
    """Seconds to invoke the handler on `events` one after the other; each must come back `expect`."""
    handler = function("WebhooksFunction").load()
    requests = [gateway_event(body, token) for body, token in events]
    started = time.perf_counter()
    for request in requests:
        response = handler(request, CONTEXT)
        if response["statusCode"] != 200 or json.loads(response["body"])["data"]["outcome"] != expect:
            raise SystemExit(f"unexpected answer: {response}")
    return time.perf_counter() - started


def plain_inserts(url: str, count: int) -> float:
    """Seconds for `count` single-statement INSERTs into webhook_events, as the baseline."""
    pool = get_pool(url)
    rows = [(f"EV_{secrets.token_hex(8)}", f"mla-{TENANT}-call_x") for _ in range(count)]
    started = time.perf_counter()
    for event_id, room in rows:
        with pool.connection() as conn:
            conn.execute(
                "INSERT INTO platform.webhook_events (id, event, room_name, tenant_id, created_at)"
                " VALUES (%s, 'room_started', %s, %s, now())",
                (event_id, room, TENANT),
            )
    return time.perf_counter() - started


def domain_only(events: list[Signed]) -> float:
    """Seconds for `webhook_events.ingest` alone on `events` (verified beforehand): the database's share."""
    verified_event = function("WebhooksFunction").import_module().verified_event
    services = get_services()
    parsed = [verified_event(services.settings, body.encode(), token) for body, token in events]
    started = time.perf_counter()
    for event in parsed:
        webhook_events.ingest(services.db, event)
    return time.perf_counter() - started


def signature_checks(events: list[Signed]) -> float:
    """Seconds for WebhookReceiver alone (JWT, body hash, protobuf parse) on `events`."""
    receiver = api.WebhookReceiver(api.TokenVerifier(KEY, SECRET))
    started = time.perf_counter()
    for body, token in events:
        receiver.receive(body, token)
    return time.perf_counter() - started


def silence_logs() -> None:
    """Keep the JSON formatting the Lambda pays for, without printing a line per event."""
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for name in ("mla_core", "webhooks"):
        for log_handler in logging.getLogger(name).handlers:
            if isinstance(log_handler, logging.StreamHandler):
                log_handler.setStream(devnull)


def run(args: argparse.Namespace, url: str) -> dict[str, list[float]]:
    # Settings from the environment, as the function reads them in Lambda.
    os.environ.update(DATABASE_URL=url, LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=SECRET)
    get_settings.cache_clear()
    get_services.cache_clear()
    asyncio.set_event_loop(asyncio.new_event_loop())  # the Lambda runtime's main-thread loop, for Mangum
    per_event: dict[str, list[float]] = {name: [] for name in ("handler", "duplicate", "domain", "signature", "insert")}
    invoke_all(signed_round(4, 0), "applied")  # warm up: SDK import, pool, statement plans
    for round_no in range(args.rounds):
        events = signed_round(args.calls, (round_no + 1) * args.calls)
        n = len(events)
        per_event["handler"].append(invoke_all(events, "applied") / n)
        per_event["duplicate"].append(invoke_all(events, "duplicate") / n)
        per_event["domain"].append(domain_only(signed_round(args.calls, (round_no + 1 + args.rounds) * args.calls)) / n)
        per_event["signature"].append(signature_checks(events) / n)
        per_event["insert"].append(plain_inserts(url, n) / n)
    return per_event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="whole calls per round (5 events each)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    silence_logs()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        pg = start_postgres(Path(tmp) / "pg")
        try:
            db = Database(pg.url)
            migrate_control_plane(db)
            register_tenant(db)
            per_event = run(args, pg.url)
        finally:
            close_pools()
            pg.stop()

    median = {name: statistics.median(values) for name, values in per_event.items()}
    events = args.calls * 5
    print(f"Webhook ingest: {events} events per round ({args.calls} calls × 5), {args.rounds} rounds, medians")
    for name, label in (
        ("handler", "handler: signature + dedupe + call-row upsert"),
        ("duplicate", "handler, retried events (dedupe hit)"),
        ("domain", "call_events.ingest alone (no HTTP, no signature)"),
        ("signature", "signature check + parse alone"),
        ("insert", "baseline: plain INSERT into webhook_events"),
    ):
        value = median[name]
        print(f"  {label:<48} {1 / value:8.0f} events/s   {value * 1000:6.3f} ms/event")
    print(
        f"  ratio handler / plain INSERT: {median['handler'] / median['insert']:.2f}×"
        f"   (goal ≥ 500 events/s: {'met' if 1 / median['handler'] >= 500 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
