"""An office's meetings: scheduled, started (the room created server-side with its note-taker and its
recording), joined with a token by role, run by the host, ended; and the transcript the note-taker
stores as people speak.

Who may do what:
- any office user schedules, edits and lists meetings, and joins a live one;
- the **host** (an MLA admin, or the staff member who scheduled it) starts and ends it, hands out
  citizens' tokens, mutes or removes a participant and stops the recording;
- deleting a meeting that was held (its transcript with it) is an MLA admin's.

LiveKit is called before the row changes, with the row locked: a refusal or an outage changes nothing
(503, try again), and a retry is safe since each call is idempotent on the room's name.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mla_core.adapters import Services
from mla_core.adapters.livekit import MeetingGrants, MeetingRoomSpec, RecordingTarget, meeting_token
from mla_core.core import cursors
from mla_core.core.errors import AppError, ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from mla_core.core.names import meeting_room_name
from mla_core.core.principal import OfficeUser
from mla_core.db import Conn
from mla_core.live import events
from mla_core.meetings import store, summary_jobs
from mla_core.meetings.models import (
    Grants,
    JoinToken,
    Meeting,
    MeetingCreate,
    MeetingDetail,
    MeetingFilters,
    MeetingPage,
    MeetingUpdate,
    NewSegment,
    Participant,
    ParticipantAction,
    Role,
    TokenRequest,
    Transcript,
)
from mla_core.tenants import registry

logger = logging.getLogger(__name__)

_SORT = "meetings.scheduled"
# Grants by role. A citizen speaks and listens: the microphone only, no data (no chat, no captions sent).
GRANTS: dict[Role, MeetingGrants] = {
    "host": MeetingGrants(room_admin=True, can_publish=True, can_publish_sources=(), can_publish_data=True),
    "staff": MeetingGrants(room_admin=False, can_publish=True, can_publish_sources=(), can_publish_data=True),
    "citizen": MeetingGrants(
        room_admin=False, can_publish=True, can_publish_sources=("microphone",), can_publish_data=False
    ),
}
MUTED = MeetingGrants(room_admin=False, can_publish=False, can_publish_sources=(), can_publish_data=False)
# A token lasts until an hour after the meeting's scheduled end, at least 30 minutes and at most 6 hours.
TOKEN_GRACE = timedelta(hours=1)
TOKEN_MIN, TOKEN_MAX = timedelta(minutes=30), timedelta(hours=6)
# Only what a scheduled meeting may change is everything; a live one, its words.
_LIVE_FIELDS = {"title", "agenda", "location"}


def actor(who: OfficeUser) -> str:
    return f"user:{who.user_id}"


def _missing() -> NotFoundError:
    return NotFoundError("meeting not found", details=[{"field": "meeting_id", "reason": "no_such_meeting"}])


def _conflict(message: str, reason: str) -> ConflictError:
    return ConflictError(message, details=[{"field": "status", "reason": reason}])


def _locked(conn: Conn, tenant_id: str, meeting_id: uuid.UUID) -> Meeting:
    meeting = store.find(conn, tenant_id, meeting_id, lock=True)
    if meeting is None:
        raise _missing()
    return meeting


def is_host(who: OfficeUser, meeting: Meeting) -> bool:
    return who.role == "mla_admin" or meeting.created_by == actor(who)


def _require_host(who: OfficeUser, meeting: Meeting) -> None:
    if not is_host(who, meeting):
        raise PermissionDeniedError("only the meeting's host (an MLA admin or who scheduled it) may do this")


def _changed(services: Services, tenant_id: str, meeting_id: uuid.UUID) -> None:
    events.office_changed(services, tenant_id, "meeting.updated", meeting_id=str(meeting_id))


# Scheduling -----------------------------------------------------------------------------------


def schedule(services: Services, who: OfficeUser, body: MeetingCreate) -> Meeting:
    meeting_id = uuid.uuid4()
    with services.db.transaction() as conn:
        languages = body.languages or registry.get_tenant(conn, who.tenant_id, with_steps=False).languages
        meeting = store.insert(
            conn,
            who.tenant_id,
            {
                "id": meeting_id,
                "kind": body.kind,
                "title": body.title,
                "agenda": body.agenda,
                "location": body.location,
                "languages": languages,
                "scheduled_at": body.scheduled_at,
                "duration_minutes": body.duration_minutes,
                "room_name": meeting_room_name(who.tenant_id, str(meeting_id)),
                "recording_wanted": body.record,
                "created_by": actor(who),
            },
        )
    logger.info("meeting scheduled", extra={"tenant_id": who.tenant_id, "meeting_id": str(meeting.id)})
    _changed(services, who.tenant_id, meeting.id)
    return meeting


def list_meetings(services: Services, tenant_id: str, filters: MeetingFilters) -> MeetingPage:
    after = cursors.decode(filters.cursor, _SORT, datetime.fromisoformat, uuid.UUID) if filters.cursor else None
    with services.db.transaction() as conn:
        rows = store.listed(conn, tenant_id, filters, after=after)
    items, next_cursor = cursors.paginate(rows, filters.limit, lambda m: cursors.encode(_SORT, m.scheduled_at, m.id))
    return MeetingPage(items=items, next_cursor=next_cursor)


def get(services: Services, tenant_id: str, meeting_id: uuid.UUID) -> MeetingDetail:
    with services.db.transaction() as conn:
        meeting = store.find(conn, tenant_id, meeting_id)
        if meeting is None:
            raise _missing()
        participants = store.participants(conn, tenant_id, meeting_id)
        count = store.segment_count(conn, tenant_id, meeting_id)
    return MeetingDetail(**meeting.model_dump(), participants=participants, segments=count)


def change(
    services: Services, who: OfficeUser, meeting_id: uuid.UUID, body: MeetingUpdate, *, if_match: int | None = None
) -> Meeting:
    """Edit a scheduled meeting (a live one's title, agenda and place); 409 for one that is over, or
    for `If-Match` naming an older version."""
    given = body.model_dump(exclude_unset=True)
    changes = {("recording_wanted" if k == "record" else k): v for k, v in given.items() if v is not None}
    with services.db.transaction() as conn:
        meeting = _locked(conn, who.tenant_id, meeting_id)
        if if_match is not None and if_match != meeting.version:
            raise ConflictError(
                "the meeting changed since it was read", details=[{"field": "If-Match", "reason": "stale"}]
            )
        if meeting.status in ("ended", "cancelled"):
            raise _conflict(f"a meeting that is {meeting.status} cannot change", meeting.status)
        if meeting.status == "live" and set(changes) - _LIVE_FIELDS:
            fields = ", ".join(sorted(set(changes) - _LIVE_FIELDS))
            raise _conflict(f"a live meeting's {fields} cannot change", "live")
        if not changes:
            return meeting
        meeting = store.update(conn, who.tenant_id, meeting_id, changes)
    _changed(services, who.tenant_id, meeting_id)
    return meeting


def cancel(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> Meeting:
    with services.db.transaction() as conn:
        meeting = _locked(conn, who.tenant_id, meeting_id)
        if meeting.status == "cancelled":
            return meeting
        if meeting.status != "scheduled":
            raise _conflict(f"a meeting that is {meeting.status} cannot be cancelled", meeting.status)
        meeting = store.update(conn, who.tenant_id, meeting_id, {"status": "cancelled"})
    _changed(services, who.tenant_id, meeting_id)
    return meeting


def delete(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> Meeting:
    """Delete a meeting that was never held (any office user) or one that was, with its transcript and
    participants (an MLA admin); a live meeting is ended first (409)."""
    with services.db.transaction() as conn:
        meeting = _locked(conn, who.tenant_id, meeting_id)
        if meeting.status == "live":
            raise _conflict("end the meeting before deleting it", "live")
        if meeting.status == "ended" and who.role != "mla_admin":
            raise PermissionDeniedError("deleting a meeting that was held, and its transcript, needs an MLA admin")
        store.delete(conn, who.tenant_id, meeting_id)
    logger.info("meeting deleted", extra={"tenant_id": who.tenant_id, "meeting_id": str(meeting_id)})
    _changed(services, who.tenant_id, meeting_id)
    return meeting


# Holding it -----------------------------------------------------------------------------------


def room_spec(services: Services, tenant_id: str, meeting: Meeting) -> MeetingRoomSpec:
    """The room LiveKit creates for `meeting`: its note-taker with the meeting's ids and languages, and
    its recording in the configuration when one is wanted."""
    s = services.settings
    ids = {"tenant_id": tenant_id, "meeting_id": str(meeting.id)}
    recording = None
    if meeting.recording_wanted:
        s.require("meeting_recordings_bucket")
        recording = RecordingTarget(
            bucket=s.meeting_recordings_bucket,
            region=s.meeting_recordings_region,
            prefix=f"recordings/{tenant_id}/{meeting.id}",
            role_arn=s.meeting_recordings_role_arn,
            external_id=s.meeting_recordings_external_id,
        )
    return MeetingRoomSpec(
        name=meeting.room_name,
        metadata=room_metadata(tenant_id, meeting, transcribing=True),
        notetaker_agent=s.livekit_notetaker_agent_name,
        notetaker_metadata=json.dumps({**ids, "languages": meeting.languages, "kind": meeting.kind}),
        recording=recording,
    )


def room_metadata(tenant_id: str, meeting: Meeting, *, transcribing: bool) -> str:
    """What every participant reads of the room (the note-taker follows `transcribing`)."""
    return json.dumps(
        {
            "tenant_id": tenant_id,
            "meeting_id": str(meeting.id),
            "kind": meeting.kind,
            "languages": meeting.languages,
            "recording": meeting.recording_wanted and transcribing,
            "transcribing": transcribing,
        }
    )


def start(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> Meeting:
    """Open the room (with its note-taker and recording) and make the meeting live; starting a live
    meeting again only makes sure its room is there."""
    with services.db.transaction() as conn:
        meeting = _locked(conn, who.tenant_id, meeting_id)
        _require_host(who, meeting)
        if meeting.status not in ("scheduled", "live"):
            raise _conflict(f"a meeting that is {meeting.status} cannot start", meeting.status)
        asyncio.run(services.livekit.ensure_meeting_room(room_spec(services, who.tenant_id, meeting)))
        if meeting.status == "live":
            return meeting
        meeting = store.update(
            conn,
            who.tenant_id,
            meeting_id,
            {
                "status": "live",
                "started_at": datetime.now(UTC),
                "recording": "recording" if meeting.recording_wanted else "off",
            },
        )
    logger.info("meeting started", extra={"tenant_id": who.tenant_id, "meeting_id": str(meeting_id)})
    _changed(services, who.tenant_id, meeting_id)
    return meeting


def end(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> Meeting:
    """Close the room (everyone leaves, the recording ends and is stored) and end the meeting."""
    with services.db.transaction() as conn:
        meeting = _locked(conn, who.tenant_id, meeting_id)
        _require_host(who, meeting)
        if meeting.status == "ended":
            return meeting
        if meeting.status != "live":
            raise _conflict(f"a meeting that is {meeting.status} cannot end", meeting.status)
        asyncio.run(services.livekit.delete_room(meeting.room_name))
        meeting = store.update(conn, who.tenant_id, meeting_id, {"status": "ended", "ended_at": datetime.now(UTC)})
    logger.info("meeting ended", extra={"tenant_id": who.tenant_id, "meeting_id": str(meeting_id)})
    _changed(services, who.tenant_id, meeting_id)
    summarise_when_ended(services, who.tenant_id, meeting_id)
    return meeting


def summarise_again(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> bool:
    with services.db.transaction() as conn:
        meeting = store.find(conn, who.tenant_id, meeting_id)
    if meeting is None:
        raise _missing()
    if meeting.status != "ended":
        raise _conflict("a meeting is summarised once it has ended", meeting.status)
    return summary_jobs.queue(services, who.tenant_id, meeting_id, again=True)


def summarise_when_ended(services: Services, tenant_id: str, meeting_id: uuid.UUID) -> None:
    """Queue an ended meeting's summary. The meeting's end stands if the queue is away: the summary
    page asks for it again (`POST /api/meetings/{id}/summary`)."""
    try:
        summary_jobs.queue(services, tenant_id, meeting_id)
    except AppError as exc:
        logger.warning("meeting summary not queued", extra={"meeting_id": str(meeting_id), "error": exc.message})


def token(services: Services, who: OfficeUser, meeting_id: uuid.UUID, body: TokenRequest) -> JoinToken:
    """A token to join the live meeting: the signed-in person's own (host or staff), or, from the host,
    a citizen's (microphone only; their number, when given, is kept with the meeting)."""
    s = services.settings
    with services.db.transaction() as conn:
        meeting = store.find(conn, who.tenant_id, meeting_id)
        if meeting is None:
            raise _missing()
        if meeting.status != "live":
            raise _conflict("only a live meeting can be joined: start it first", meeting.status)
        if body.role == "citizen":
            _require_host(who, meeting)
            role: Role = "citizen"
            identity = f"citizen:{secrets.token_hex(4)}"
            name = body.name or "Citizen"
        else:
            if body.name is None and (body.phone or body.hall_microphone):
                raise InvalidInputError(
                    "a phone or a hall microphone is a citizen's token: add role citizen",
                    details=[{"field": "role", "reason": "citizen_only"}],
                )
            role = "host" if is_host(who, meeting) else "staff"
            identity = f"user:{who.user_id}"
            name = body.name or _full_name(conn, who)
            current = store.participant(conn, who.tenant_id, meeting_id, identity)
            if current is not None and current.removed_at is not None:
                raise PermissionDeniedError("the host removed you from this meeting")
        store.upsert_participant(
            conn,
            who.tenant_id,
            meeting_id,
            identity=identity,
            name=name,
            role=role,
            phone=body.phone if role == "citizen" else None,
            hall_microphone=body.hall_microphone and role == "citizen",
            user_id=None if role == "citizen" else who.user_id,
        )
    ttl = _token_ttl(meeting)
    grants = GRANTS[role]
    jwt = meeting_token(
        s.livekit_api_key,
        s.livekit_secret,
        identity=identity,
        name=name,
        room=meeting.room_name,
        grants=grants,
        attributes={"mla.role": role, "mla.hall_microphone": "1" if body.hall_microphone else "0"},
        ttl=ttl,
    )
    return JoinToken(
        token=jwt,
        url=s.livekit_url,
        room=meeting.room_name,
        identity=identity,
        role=role,
        expires_at=datetime.now(UTC) + ttl,
        grants=Grants(
            room_admin=grants.room_admin,
            can_publish=grants.can_publish,
            can_publish_sources=list(grants.can_publish_sources),
            can_publish_data=grants.can_publish_data,
            can_subscribe=grants.can_subscribe,
        ),
    )


def _token_ttl(meeting: Meeting, now: datetime | None = None) -> timedelta:
    ends = meeting.scheduled_at + timedelta(minutes=meeting.duration_minutes) + TOKEN_GRACE
    return min(TOKEN_MAX, max(TOKEN_MIN, ends - (now or datetime.now(UTC))))


def _full_name(conn: Conn, who: OfficeUser) -> str:
    row = conn.execute("SELECT full_name FROM platform.users WHERE user_id = %s", (who.user_id,)).fetchone()
    return (row and row["full_name"]) or who.email.split("@")[0]


def act_on_participant(
    services: Services, who: OfficeUser, meeting_id: uuid.UUID, identity: str, body: ParticipantAction
) -> Participant:
    """The host mutes (takes away publishing), unmutes (gives back what the role allows) or removes a
    participant of the live meeting."""
    with services.db.transaction() as conn:
        meeting = _locked(conn, who.tenant_id, meeting_id)
        _require_host(who, meeting)
        if meeting.status != "live":
            raise _conflict("only a live meeting's participants can be muted or removed", meeting.status)
        participant = store.participant(conn, who.tenant_id, meeting_id, identity)
        if participant is None:
            raise NotFoundError(
                "no such participant in this meeting", details=[{"field": "identity", "reason": "no_such_participant"}]
            )
        if participant.role == "notetaker":
            raise ConflictError(
                "the note-taker is not muted or removed: stop the recording instead",
                details=[{"field": "identity", "reason": "notetaker"}],
            )
        room = meeting.room_name
        if body.action == "remove":
            asyncio.run(services.livekit.remove_participant(room, identity))
            changes: dict[str, Any] = {"removed_at": datetime.now(UTC)}
        else:
            grants = MUTED if body.action == "mute" else GRANTS[participant.role]
            asyncio.run(services.livekit.set_publishing(room, identity, grants))
            changes = {"muted": body.action == "mute"}
        updated = store.set_participant(conn, who.tenant_id, meeting_id, identity, changes)
    assert updated is not None
    logger.info(
        "meeting participant changed",
        extra={"tenant_id": who.tenant_id, "meeting_id": str(meeting_id), "action": body.action},
    )
    _changed(services, who.tenant_id, meeting_id)
    return updated


def stop_recording(services: Services, who: OfficeUser, meeting_id: uuid.UUID) -> Meeting:
    """Stop the recording and the transcript for the rest of the meeting: LiveKit's egress stops, and
    the room's metadata tells the note-taker (which stores nothing more either way: `record_segments`)."""
    with services.db.transaction() as conn:
        meeting = _locked(conn, who.tenant_id, meeting_id)
        _require_host(who, meeting)
        if meeting.status != "live":
            raise _conflict("only a live meeting's recording can be stopped", meeting.status)
        if meeting.recording == "stopped":
            return meeting
        asyncio.run(services.livekit.stop_recordings(meeting.room_name))
        asyncio.run(
            services.livekit.set_room_metadata(
                meeting.room_name, room_metadata(who.tenant_id, meeting, transcribing=False)
            )
        )
        meeting = store.update(conn, who.tenant_id, meeting_id, {"recording": "stopped"})
    logger.info("meeting recording stopped", extra={"tenant_id": who.tenant_id, "meeting_id": str(meeting_id)})
    _changed(services, who.tenant_id, meeting_id)
    return meeting


def seen(
    services: Services,
    tenant_id: str,
    meeting_id: uuid.UUID,
    identity: str,
    *,
    name: str,
    role: Role,
    joined_at: datetime | None = None,
    left_at: datetime | None = None,
) -> None:
    """A participant the note-taker saw join or leave (LiveKit's webhooks say the same; both merge)."""
    with services.db.transaction() as conn:
        store.presence(
            conn, tenant_id, meeting_id, identity, name=name, role=role, joined_at=joined_at, left_at=left_at
        )


# The transcript -------------------------------------------------------------------------------


def record_segments(
    services: Services, tenant_id: str, meeting_id: uuid.UUID, segments: Sequence[NewSegment]
) -> list[int]:
    """Store the note-taker's final segments; the ids stored now (a retried key is stored once).

    Nothing is stored for a meeting that is not live (or ended in the last minutes: the last words'
    segments arrive after the room closed) or whose host stopped the recording.
    """
    with services.db.transaction() as conn:
        ids = store.insert_segments(conn, tenant_id, meeting_id, segments)
    if ids:
        events.office_changed(services, tenant_id, "meeting.segment", meeting_id=str(meeting_id), segment_id=ids[-1])
    return ids


def transcript(services: Services, tenant_id: str, meeting_id: uuid.UUID, *, after: int = 0) -> Transcript:
    with services.db.transaction() as conn:
        meeting = store.find(conn, tenant_id, meeting_id)
        if meeting is None:
            raise _missing()
        segments = store.segments(conn, tenant_id, meeting_id, after=after)
    return Transcript(
        meeting_id=meeting.id,
        title=meeting.title,
        started_at=meeting.started_at,
        segments=segments,
        next_after=max((s.id for s in segments), default=after or None),
    )
