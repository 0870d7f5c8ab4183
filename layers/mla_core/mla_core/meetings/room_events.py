"""LiveKit's webhook events of a meeting's room folded into the meeting: each applied once, in any order.

The webhook (`calls.webhook_events`) receives every event, checks it and hands a meeting room's
(`mla-{tenant}-meet-{meeting id}`) here. An event arrives at least once and not necessarily in order, so
each rule merges (the meeting ends up the same whatever the order):

- `participant_joined` / `participant_left`: the participant's presence (`store.presence`): the first
  join and the last leave, from the events' times. One not known yet is added under its name (its
  identity when it has none) and a role: `notetaker` for an agent, else the `mla.role` its token carries,
  else `citizen`. A known participant's name and role stay as the office gave them.
- `egress_started`: the recording is `recording`, from `off` or `pending` only: a recording that the
  host stopped, or whose egress already ended, stays as it is.
- `egress_ended` with a file: `stored`, and the file's location in `recording_url` (the smallest of
  several, so replays converge). An egress that failed, or left no file: `failed`, unless a recording
  is stored; an aborted egress (stopped before it ran) of a recording the host stopped stays `stopped`.
- `room_finished`: a live meeting is `ended` at the event's time (never before it started), which is
  how a room closed by its empty timeout ends its meeting. An ended or cancelled meeting stays.

Once: the meeting's row is locked, then the event's dedupe record is claimed in the same transaction
(`Claim`, the webhook's own, over `platform.webhook_events`), and the change applied only when it was.
A retry is a no-op; an effect that did not commit leaves no record. The lock also orders concurrent
events of one meeting, so each plan reads what the previous one wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from mla_core.adapters import Services
from mla_core.db import Conn, Database
from mla_core.meetings import store
from mla_core.meetings.models import NAME_LIMIT, Meeting, Participant, Role

ClaimResult = Literal["claimed", "duplicate", "unknown_tenant"]
Claim = Callable[[Conn], ClaimResult]  # the event's dedupe record, claimed on this connection
Outcome = Literal["applied", "duplicate", "ignored"]

PRESENCE_EVENTS = frozenset({"participant_joined", "participant_left"})
MEETING_EVENTS = frozenset({"egress_started", "egress_ended", "room_finished"})
# LiveKit's end states of an egress that made no recording (`EgressStatus`, in lower case).
FAILED_EGRESS = frozenset({"egress_failed", "egress_aborted"})
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class RoomEvent:
    """What a meeting uses of one webhook event (the webhook's checked and cleaned fields)."""

    kind: str  # LiveKit's event name
    at: datetime | None  # when LiveKit emitted it
    identity: str | None = None
    name: str | None = None
    role: str | None = None  # the participant's `mla.role` attribute
    agent: bool = False
    recording_url: str | None = None
    egress_status: str | None = None
    egress_error: str | None = None


@dataclass(frozen=True)
class Presence:
    identity: str
    name: str
    role: Role
    joined_at: datetime | None = None
    left_at: datetime | None = None


@dataclass(frozen=True)
class MeetingChange:
    """What one event changes: the meeting's columns, and one participant's presence."""

    meeting: Mapping[str, Any] = field(default_factory=dict)
    presence: Presence | None = None

    def __bool__(self) -> bool:
        return bool(self.meeting) or self.presence is not None


@dataclass(frozen=True)
class Folded:
    """What became of one event."""

    outcome: Outcome
    reason: str | None = None  # why it was ignored
    changed: bool = False  # the meeting or a participant changed (the office's pages are told)
    ended: bool = False  # the event ended a live meeting (its summary is queued)


def folds(event: RoomEvent) -> bool:
    """Whether `event` can say anything about a meeting (the rest are ignored before any query)."""
    return event.kind in MEETING_EVENTS or (event.kind in PRESENCE_EVENTS and bool(event.identity))


def role_of(event: RoomEvent) -> Role:
    """The role of a participant first seen in a webhook."""
    if event.agent:
        return "notetaker"
    return next((role for role in ROLES if role == event.role), "citizen")


def plan(meeting: Meeting, known: Participant | None, event: RoomEvent, *, now: datetime) -> MeetingChange:
    """The change `event` makes, given the meeting and the participant (when known) as they are; empty
    when it changes nothing. `now` stands in for an event without a time."""
    if event.kind in PRESENCE_EVENTS and event.identity:
        return MeetingChange(presence=_presence(known, event))
    if event.kind == "egress_started":
        return MeetingChange({"recording": "recording"} if meeting.recording in ("off", "pending") else {})
    if event.kind == "egress_ended":
        return MeetingChange(_recording_ended(meeting, event))
    if event.kind == "room_finished" and meeting.status == "live":
        ended = event.at or now
        if meeting.started_at is not None:
            ended = max(ended, meeting.started_at)
        return MeetingChange({"status": "ended", "ended_at": ended})
    return MeetingChange()


def _presence(known: Participant | None, event: RoomEvent) -> Presence | None:
    assert event.identity is not None
    joined = event.at if event.kind == "participant_joined" else None
    left = event.at if event.kind == "participant_left" else None
    if known is not None:
        earlier = joined is not None and (known.joined_at is None or joined < known.joined_at)
        later = left is not None and (known.left_at is None or left > known.left_at)
        if not (earlier or later):
            return None
    name = (event.name or event.identity)[:NAME_LIMIT]
    return Presence(event.identity, name, role_of(event), joined_at=joined, left_at=left)


def _recording_ended(meeting: Meeting, event: RoomEvent) -> dict[str, Any]:
    url = event.recording_url
    if url and event.egress_status not in FAILED_EGRESS:
        location = min(meeting.recording_url, url) if meeting.recording_url else url
        changes: dict[str, Any] = {}
        if meeting.recording != "stored":
            changes["recording"] = "stored"
        if location != meeting.recording_url:
            changes["recording_url"] = location
        return changes
    if meeting.recording in ("stored", "failed"):
        return {}
    if meeting.recording == "stopped" and event.egress_status == "egress_aborted":
        return {}
    return {"recording": "failed"}


def ingest(
    db: Database, tenant_id: str, meeting_id: uuid.UUID, room_name: str, event: RoomEvent, claim: Claim
) -> Folded:
    """Apply `event` to the meeting of `room_name` once (see the module docstring).

    A meeting that is not this tenant's, or whose room is another, is ignored, and nothing is recorded.
    Raises psycopg's `UndefinedTable` or `InvalidSchemaName` for a tenant without its schema, and
    `TransientError` when the database is unavailable (nothing recorded then either).
    """
    with db.transaction() as conn:
        meeting = store.find(conn, tenant_id, meeting_id, lock=True)
        if meeting is None or meeting.room_name != room_name:
            return Folded("ignored", "unknown_meeting")
        known = store.participant(conn, tenant_id, meeting_id, event.identity) if event.identity else None
        claimed = claim(conn)
        if claimed == "unknown_tenant":
            return Folded("ignored", "unknown_tenant")
        if claimed == "duplicate":
            return Folded("duplicate")
        change = plan(meeting, known, event, now=datetime.now(UTC))
        if change.meeting:
            store.update(conn, tenant_id, meeting_id, dict(change.meeting))
        if (p := change.presence) is not None:
            store.presence(
                conn,
                tenant_id,
                meeting_id,
                p.identity,
                name=p.name,
                role=p.role,
                joined_at=p.joined_at,
                left_at=p.left_at,
            )
    return Folded("applied", changed=bool(change), ended=change.meeting.get("status") == "ended")


def summarise_ended(services: Services, tenant_id: str, meeting_id: uuid.UUID) -> None:
    """A meeting its room's closing ended is summarised as one its host ended."""
    from mla_core.meetings.meetings import summarise_when_ended

    summarise_when_ended(services, tenant_id, meeting_id)
