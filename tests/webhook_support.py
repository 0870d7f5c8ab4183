"""LiveKit's webhooks as LiveKit sends them: real `WebhookEvent`s of one call or one meeting's room, signed
with our key and posted to the local gateway (tests/integration/test_webhooks.py,
tests/integration/test_meeting_webhooks.py, tests/agent/test_agent_no_numbers_in_logs.py)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import timedelta
from typing import Any

import httpx
from google.protobuf.json_format import MessageToJson
from livekit import api as lk

START = int(time.time()) - 3600  # a call an hour ago: times come from the events, not the clock


def call_room(tenant: dict[str, Any], caller: str) -> str:
    """The room LiveKit's individual dispatch rule makes for one call."""
    return f"mla-{tenant['tenant_id']}-call_{caller}_{secrets.token_hex(3)}"


def event_id() -> str:
    return f"EV_{secrets.token_hex(8)}"


def whole_call(
    room: str, caller: str, dialed: str, start: int = START, recording: str | None = None
) -> list[lk.WebhookEvent]:
    """The five events of one answered, recorded call, in the order LiveKit sends them."""
    info = lk.Room(sid=f"RM_{secrets.token_hex(6)}", name=room)
    sip = lk.ParticipantInfo(
        sid=f"PA_{secrets.token_hex(6)}",
        identity=f"sip_{caller}",
        kind=lk.ParticipantInfo.Kind.SIP,
        attributes={"sip.phoneNumber": caller, "sip.trunkPhoneNumber": dialed, "sip.callID": "SCL_x"},
    )
    left = lk.ParticipantInfo()
    left.CopyFrom(sip)
    left.disconnect_reason = lk.DisconnectReason.CLIENT_INITIATED
    egress = lk.EgressInfo(
        egress_id=f"EG_{secrets.token_hex(6)}",
        room_name=room,
        status=lk.EgressStatus.EGRESS_COMPLETE,
        file_results=[lk.FileInfo(filename=f"{room}.ogg", location=recording or f"s3://mla-recordings/{room}.ogg")],
    )
    finished = lk.WebhookEvent(event="room_finished", id=event_id(), created_at=start + 100, room=info)
    finished.room_end_reason = lk.RoomEndReason.ROOM_END_API_DELETE
    return [
        lk.WebhookEvent(event="room_started", id=event_id(), created_at=start, room=info),
        lk.WebhookEvent(event="participant_joined", id=event_id(), created_at=start + 2, room=info, participant=sip),
        lk.WebhookEvent(event="participant_left", id=event_id(), created_at=start + 95, room=info, participant=left),
        finished,
        lk.WebhookEvent(event="egress_ended", id=event_id(), created_at=start + 104, egress_info=egress),
    ]


def joined(
    room: str, identity: str, at: int, *, name: str = "", agent: bool = False, role: str | None = None
) -> lk.WebhookEvent:
    """`participant_joined` of a meeting's participant (`role`: the `mla.role` its token carries)."""
    return _presence("participant_joined", room, identity, at, name=name, agent=agent, role=role)


def left(
    room: str, identity: str, at: int, *, name: str = "", agent: bool = False, role: str | None = None
) -> lk.WebhookEvent:
    return _presence("participant_left", room, identity, at, name=name, agent=agent, role=role)


def _presence(
    kind: str, room: str, identity: str, at: int, *, name: str, agent: bool, role: str | None
) -> lk.WebhookEvent:
    participant = lk.ParticipantInfo(
        sid=f"PA_{secrets.token_hex(6)}",
        identity=identity,
        name=name,
        kind=lk.ParticipantInfo.Kind.AGENT if agent else lk.ParticipantInfo.Kind.STANDARD,
        attributes={"mla.role": role} if role else {},
    )
    return lk.WebhookEvent(event=kind, id=event_id(), created_at=at, room=lk.Room(name=room), participant=participant)


def egress(
    kind: str,
    room: str,
    at: int,
    *,
    egress_id: str = "",
    location: str = "",
    status: int | None = None,
    error: str = "",
) -> lk.WebhookEvent:
    """`egress_started` or `egress_ended` of the room's recording: a file at `location` when given. As
    LiveKit sends them, the room is named in `egress_info` only."""
    default = lk.EgressStatus.EGRESS_COMPLETE if kind == "egress_ended" else lk.EgressStatus.EGRESS_ACTIVE
    info = lk.EgressInfo(
        egress_id=egress_id or f"EG_{secrets.token_hex(6)}",
        room_name=room,
        status=default if status is None else status,  # type: ignore[arg-type]
        error=error,
        file_results=[lk.FileInfo(filename=location.rsplit("/", 1)[-1], location=location)] if location else [],
    )
    return lk.WebhookEvent(event=kind, id=event_id(), created_at=at, egress_info=info)


def room_finished(room: str, at: int) -> lk.WebhookEvent:
    """The room closed: by the API, or by its empty timeout once everyone left."""
    event = lk.WebhookEvent(event="room_finished", id=event_id(), created_at=at, room=lk.Room(name=room))
    event.room_end_reason = lk.RoomEndReason.ROOM_END_IDLE_TIMEOUT
    return event


def sign(body: str | bytes, *, key: str, secret: str, ttl: timedelta = timedelta(minutes=5)) -> str:
    """The `Authorization` LiveKit sends: a JWT whose `sha256` claim is the body's digest."""
    raw = body.encode() if isinstance(body, str) else body
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode()
    return lk.AccessToken(key, secret).with_sha256(digest).with_ttl(ttl).to_jwt()


class LiveKitSender:
    """Posts webhook events to the gateway as LiveKit's notifier does."""

    def __init__(self, http: httpx.Client, env: dict[str, str]) -> None:
        self.http = http
        self.key, self.secret = env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"]

    def signed(self, event: lk.WebhookEvent) -> tuple[str, str]:
        body = MessageToJson(event)
        return body, sign(body, key=self.key, secret=self.secret)

    def post(self, body: str | bytes, authorization: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/webhook+json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        return self.http.post("/webhooks/livekit", content=body, headers=headers)

    def send(self, event: lk.WebhookEvent) -> httpx.Response:
        return self.post(*self.signed(event))

    def deliver(self, events: list[lk.WebhookEvent]) -> list[str]:
        """Each event sent and acknowledged with 200; the outcomes, in order."""
        outcomes = []
        for event in events:
            response = self.send(event)
            assert response.status_code == 200, response.text
            outcomes.append(response.json()["data"]["outcome"])
        return outcomes
