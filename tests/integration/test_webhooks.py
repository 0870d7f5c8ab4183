"""LiveKit webhooks over the local gateway: real `WebhookEvent` JSON signed as LiveKit signs it,
folded into the same call row the agent writes, once, in any order; forgeries refused."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from google.protobuf.json_format import MessageToJson
from livekit import api as lk
from psycopg import sql
from psycopg.rows import dict_row

from mla_core.adapters import get_services
from mla_core.calls import records, webhook_events
from mla_core.core.names import stored_room_name
from support import Api, Inspector, invoke_lambda, unique_number
from webhook_support import START, LiveKitSender, call_room, event_id, sign, whole_call

# What the merge rules decide; the id and the bookkeeping columns differ between rooms.
MERGED = (
    "caller_number",
    "dialed_number",
    "status",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "end_reason",
    "recording_url",
    "last_event_at",
    "transcript",
    "outcome",
    "latency",
)


@pytest.fixture(scope="module")
def tenant(api: Api, admin_token: str) -> dict[str, Any]:
    created = api.create_tenant(admin_token)
    assert created["status"] == "active", created
    return created


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


# Factories ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def livekit(api: Api, stack: Any) -> LiveKitSender:
    return LiveKitSender(api.http, stack.env)


def call_row(inspect: Inspector, tenant_id: str, room: str) -> dict[str, Any] | None:
    """The row of LiveKit's `room`, stored under its name without the caller's number."""
    query = sql.SQL("SELECT * FROM {} WHERE room_name = %s").format(sql.Identifier(f"tenant_{tenant_id}", "calls"))
    with psycopg.connect(inspect.env["DATABASE_URL"], row_factory=dict_row) as conn:
        rows = conn.execute(query, (stored_room_name(room),)).fetchall()
    assert len(rows) <= 1
    return rows[0] if rows else None


def merged(row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None
    return {name: row[name] for name in MERGED}


def recorded_ids(inspect: Inspector, ids: list[str]) -> set[str]:
    return {row[0] for row in inspect.sql("SELECT id FROM platform.webhook_events WHERE id = ANY(%s)", ids)}


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# A whole call --------------------------------------------------------------------------------------


def test_the_events_of_a_whole_call_fill_its_row(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller, dialed = unique_number(), tenant["phone_numbers"][0]
    room = call_room(tenant, caller)
    events = whole_call(room, caller, dialed)

    assert livekit.deliver(events) == ["applied"] * 5

    row = call_row(inspect, tenant["tenant_id"], room)
    assert row is not None
    assert (row["caller_number"], row["dialed_number"]) == (caller, dialed)
    assert (row["started_at"], row["answered_at"], row["ended_at"]) == (at(START), at(START + 2), at(START + 100))
    assert row["duration_seconds"] == 100
    assert row["end_reason"] == "client_initiated"  # the caller hung up: says more than the room's reason
    assert row["status"] == "completed"
    assert row["recording_url"] == f"s3://mla-recordings/{room}.ogg"
    assert row["last_event_at"] == at(START + 104)
    assert row["transcript"] == [] and row["outcome"] is None
    recorded = inspect.sql(
        "SELECT id, event, room_name, tenant_id, created_at FROM platform.webhook_events WHERE room_name = %s"
        " ORDER BY created_at",
        stored_room_name(room),
    )
    assert recorded == [(e.id, e.event, stored_room_name(room), tenant["tenant_id"], at(e.created_at)) for e in events]


def test_duplicates_and_any_order_converge_on_the_same_row(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller, dialed = unique_number(), tenant["phone_numbers"][0]
    rooms = [call_room(tenant, caller) for _ in range(3)]
    recording = f"s3://mla-recordings/{caller}.ogg"
    in_order, reversed_, shuffled = (whole_call(room, caller, dialed, recording=recording) for room in rooms)

    assert livekit.deliver(in_order) == ["applied"] * 5
    assert livekit.deliver(in_order) == ["duplicate"] * 5  # LiveKit's retries: same id, same bytes
    assert livekit.deliver(in_order[::-1]) == ["duplicate"] * 5
    assert livekit.deliver(reversed_[::-1]) == ["applied"] * 5
    order = [3, 0, 4, 1, 2]
    assert livekit.deliver([shuffled[i] for i in order] + shuffled) == ["applied"] * 5 + ["duplicate"] * 5

    first, *others = (merged(call_row(inspect, tenant["tenant_id"], room)) for room in rooms)
    assert all(other == first for other in others), (first, others)
    assert first["status"] == "completed" and first["duration_seconds"] == 100


def test_a_retry_delivered_concurrently_is_applied_once(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector, stack: Any
) -> None:
    caller = unique_number()
    room = call_room(tenant, caller)
    body, token = livekit.signed(whole_call(room, caller, tenant["phone_numbers"][0])[0])
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        with httpx.Client(base_url=stack.env["API_URL"], timeout=30) as http:
            barrier.wait()
            response = LiveKitSender(http, stack.env).post(body, token)
        outcomes.append(response.json()["data"]["outcome"])

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 7
    assert call_row(inspect, tenant["tenant_id"], room) is not None


# The agent's record and the webhooks ---------------------------------------------------------------


def record_agent_call(tenant_id: str, room: str, caller: str, dialed: str) -> None:
    """What the agent writes after the call (`agent_pool` → `records.record_call`), with its own clock and
    the room as its `CallRequest` names it."""
    records.record_call(
        get_services(),
        tenant_id,
        stored_room_name(room),
        caller_number=caller,
        dialed_number=dialed,
        language="ta",
        started_at=at(START + 3),
        ended_at=at(START + 94),
        outcome="complaint_logged",
        transcript=[{"role": "assistant", "text": "வணக்கம்"}, {"role": "user", "text": "குடிநீர் வரவில்லை"}],
        latency={"p50_ms": 640},
        notice_played_at=at(START + 4),
    )


@pytest.mark.parametrize("agent_first", [True, False], ids=["agent_first", "webhooks_first"])
def test_the_agents_record_and_the_webhooks_make_one_row_whichever_comes_first(
    agent_first: bool, tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller, dialed = unique_number(), tenant["phone_numbers"][0]
    room = call_room(tenant, caller)
    events = whole_call(room, caller, dialed)

    if agent_first:
        record_agent_call(tenant["tenant_id"], room, caller, dialed)
    livekit.deliver(events)
    if not agent_first:
        record_agent_call(tenant["tenant_id"], room, caller, dialed)

    row = call_row(inspect, tenant["tenant_id"], room)
    assert row is not None
    assert row["transcript"][1]["text"] == "குடிநீர் வரவில்லை"
    assert (row["outcome"], row["language"], row["latency"]) == ("complaint_logged", "ta", {"p50_ms": 640})
    assert row["notice_played_at"] == at(START + 4)
    assert (row["caller_number"], row["dialed_number"]) == (caller, dialed)
    assert (row["started_at"], row["answered_at"], row["ended_at"]) == (at(START), at(START + 2), at(START + 100))
    assert (row["end_reason"], row["status"]) == ("client_initiated", "completed")
    assert row["recording_url"] == f"s3://mla-recordings/{room}.ogg"


def test_the_duration_is_the_merged_span_when_the_agent_writes_last(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller, dialed = unique_number(), tenant["phone_numbers"][0]
    room = call_room(tenant, caller)
    livekit.deliver(whole_call(room, caller, dialed))
    record_agent_call(tenant["tenant_id"], room, caller, dialed)

    row = call_row(inspect, tenant["tenant_id"], room)
    assert row is not None
    assert row["duration_seconds"] == (row["ended_at"] - row["started_at"]).total_seconds() == 100


# Signatures ---------------------------------------------------------------------------------------


def unauthenticated(response: httpx.Response) -> bool:
    body = response.json()
    return response.status_code == 401 and body["success"] is False and body["error"]["code"] == "unauthenticated"


def test_forged_tampered_expired_and_unsigned_events_are_refused_and_change_nothing(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller = unique_number()
    room = call_room(tenant, caller)
    started, joined, *_ = whole_call(room, caller, tenant["phone_numbers"][0])
    body, token = livekit.signed(started)
    tampered = body.replace(room, call_room(tenant, unique_number()))

    attempts = {
        "another secret": (body, sign(body, key=livekit.key, secret="another-secret-another-secret-0123")),
        "another key": (body, sign(body, key="otherkey", secret=livekit.secret)),
        "tampered body": (tampered, token),
        "another event's signature": (MessageToJson(joined), token),
        "expired": (body, sign(body, key=livekit.key, secret=livekit.secret, ttl=timedelta(minutes=-5))),
        "missing header": (body, None),
        "empty header": (body, ""),
        "not a jwt": (body, "Bearer not-a-jwt"),
    }
    for name, (sent, authorization) in attempts.items():
        assert unauthenticated(livekit.post(sent, authorization)), name

    assert recorded_ids(inspect, [started.id, joined.id]) == set()
    assert call_row(inspect, tenant["tenant_id"], room) is None


def test_a_bearer_prefix_added_by_a_proxy_is_accepted(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller = unique_number()
    room = call_room(tenant, caller)
    body, token = livekit.signed(whole_call(room, caller, tenant["phone_numbers"][0])[0])

    response = livekit.post(body, f"Bearer {token}")

    assert response.status_code == 200, response.text
    expected = {"event_id": json.loads(body)["id"], "outcome": "applied", "reason": None}
    assert response.json() == {"success": True, "data": expected}
    assert call_row(inspect, tenant["tenant_id"], room) is not None


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "room_started", "id": ',
        b"[]",
        b'"room_started"',
        b"{}",
        b'{"event": "room_started"}',
        b'{"id": "EV_no_event_name"}',
        b'{"event": "room_started", "id": "EV_bad_time", "createdAt": "soon"}',
        b'{"event": "room_started", "id": "EV_far_time", "createdAt": "9223372036854775807"}',
        b'{"event": "room_started", "id": "EV_nul\\u0000", "room": {"name": "mla-abcde12345-call_x"}}',
        b'{"event": "room_started", "id": "' + b"E" * 300 + b'"}',
        b'{"event": "room_started", "id": "EV_\xff\xfe"}',
        b"[" * 100_000,
    ],
    ids=[
        "bad json",
        "array",
        "string",
        "empty object",
        "no id",
        "no event name",
        "bad created_at",
        "created_at out of range",
        "nul in id",
        "id too long",
        "not utf-8",
        "deeply nested",
    ],
)
def test_a_signed_body_that_is_not_a_usable_event_is_a_400(body: bytes, livekit: LiveKitSender) -> None:
    response = livekit.post(body, sign(body, key=livekit.key, secret=livekit.secret))

    assert response.status_code == 400, response.text
    error = response.json()
    assert error["success"] is False and error["error"]["code"] == "malformed_event"


# Rooms and events that are not ours ----------------------------------------------------------------


@pytest.fixture
def schemaless_tenant(inspect: Inspector) -> Iterator[str]:
    """A registered tenant whose provisioning failed before its schema was made."""
    tenant_id = "zz" + secrets.token_hex(4)
    inspect.sql(
        "INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages, admin_email,"
        " schema_name, room_name) VALUES (%s, 'failed', 'X', 'X', 'Tamil Nadu', '{ta}', %s, %s, %s)",
        tenant_id,
        f"{tenant_id}@example.in",
        f"tenant_{tenant_id}",
        f"mla-{tenant_id}",
    )
    yield tenant_id
    inspect.sql("DELETE FROM platform.tenants WHERE tenant_id = %s", tenant_id)


def test_rooms_and_tenants_that_are_not_ours_are_acknowledged_and_ignored(
    tenant: dict[str, Any], schemaless_tenant: str, livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller = unique_number()
    own_room = call_room(tenant, caller)
    cases = {
        f"call-_{caller}_AbCd": ("room_started", "not_our_room"),  # another LiveKit project's rooms
        f"mla-{tenant['tenant_id']}x-call_{caller}_AbCd": ("room_started", "not_our_room"),
        f"mla-unknown123-call_{caller}_AbCd": ("room_started", "unknown_tenant"),
        f"mla-{schemaless_tenant}-call_{caller}_AbCd": ("room_started", "no_call_table"),
        f"mla-{tenant['tenant_id']}": ("room_started", "tenant_room"),  # the tenant's own room is not a call
        own_room: ("track_published", "no_call_change"),
    }
    sent = []
    for room, (name, reason) in cases.items():
        event = lk.WebhookEvent(event=name, id=event_id(), created_at=START, room=lk.Room(name=room))
        response = livekit.send(event)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["event_id"], data["outcome"], data["reason"]) == (event.id, "ignored", reason), room
        sent.append(event.id)

    agent_joined = lk.WebhookEvent(
        event="participant_joined",
        id=event_id(),
        created_at=START,
        room=lk.Room(name=own_room),
        participant=lk.ParticipantInfo(identity="agent-AJ_1", kind=lk.ParticipantInfo.Kind.AGENT),
    )
    assert livekit.deliver([agent_joined]) == ["ignored"]

    assert recorded_ids(inspect, [*sent, agent_joined.id]) == set()
    assert call_row(inspect, tenant["tenant_id"], own_room) is None
    assert call_row(inspect, tenant["tenant_id"], f"mla-{tenant['tenant_id']}") is None


def test_a_deleted_tenants_rooms_are_ignored(
    api: Api, admin_token: str, livekit: LiveKitSender, inspect: Inspector
) -> None:
    gone = api.create_tenant(admin_token)
    assert api.request("DELETE", f"/admin/tenants/{gone['tenant_id']}", admin_token).status_code in (200, 202)
    api.wait_for(admin_token, gone["tenant_id"], "deleted")
    caller = unique_number()
    event = whole_call(call_room(gone, caller), caller, gone["phone_numbers"][0])[0]

    assert livekit.send(event).json()["data"]["reason"] == "unknown_tenant"
    assert recorded_ids(inspect, [event.id]) == set()


# Database outage ----------------------------------------------------------------------------------


def test_with_the_database_down_the_event_gets_a_503_and_is_applied_when_retried(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector, stack: Any, postgres_down: None
) -> None:
    caller = unique_number()
    room = call_room(tenant, caller)
    body, token = livekit.signed(whole_call(room, caller, tenant["phone_numbers"][0])[0])

    refused = livekit.post(body, token)

    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "service_unavailable"

    stack.restart_postgres()
    deadline = time.monotonic() + 30
    retried = livekit.post(body, token)  # LiveKit retries the identical bytes and token
    while retried.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
        retried = livekit.post(body, token)
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["outcome"] == "applied"
    assert call_row(inspect, tenant["tenant_id"], room) is not None


# The Lambda entry and retention ---------------------------------------------------------------------


def test_the_lambda_handler_verifies_the_raw_bytes_of_a_base64_api_gateway_body(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    from local_stack.template import function

    handler = function("WebhooksFunction").load()

    caller = unique_number()
    room = call_room(tenant, caller)
    body, token = livekit.signed(whole_call(room, caller, tenant["phone_numbers"][0])[1])
    event = {
        "version": "2.0",
        "routeKey": "POST /webhooks/livekit",
        "rawPath": "/webhooks/livekit",
        "rawQueryString": "",
        "headers": {"authorization": token, "content-type": "application/webhook+json", "host": "abc.example"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.example",
            "requestId": "r-1",
            "http": {"method": "POST", "path": "/webhooks/livekit", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "routeKey": "POST /webhooks/livekit",
            "stage": "$default",
            "timeEpoch": 1763719200000,
        },
        "body": base64.b64encode(body.encode()).decode(),
        "isBase64Encoded": True,
    }

    response = invoke_lambda(handler, event, "WebhooksFunction")

    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["data"]["outcome"] == "applied"
    row = call_row(inspect, tenant["tenant_id"], room)
    assert row is not None and row["caller_number"] == caller


def test_dedupe_records_past_the_retention_are_purged_now_and_then(
    tenant: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    old, recent = event_id(), event_id()
    for eid, age in ((old, timedelta(days=8)), (recent, timedelta(days=6))):
        inspect.sql(
            "INSERT INTO platform.webhook_events (id, event, room_name, tenant_id, received_at)"
            " VALUES (%s, 'room_started', 'mla-x', %s, now() - %s)",
            eid,
            tenant["tenant_id"],
            age,
        )
    caller = unique_number()
    event = webhook_events.parse_event(
        {"id": event_id(), "event": "room_started", "room_name": call_room(tenant, caller), "created_at": START}
    )

    ingested = webhook_events.ingest(get_services().db, event, purge_chance=1.0)

    assert ingested.outcome == "applied"
    assert recorded_ids(inspect, [old, recent, event.id]) == {recent, event.id}
