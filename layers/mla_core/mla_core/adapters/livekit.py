"""LiveKit server API: the tenant's room and its SIP dispatch rule; a meeting's room, its recording and
its participants; and the tokens a browser joins a test call (`agent_call_token`) or a meeting
(`meeting_token`) with.

Every call goes through `livekit-api` pointed at `settings.livekit_url` (LiveKit Cloud, a
self-hosted server, or the local Twirp stand-in). Errors become ours: 5xx, timeouts and network
failures are `TransientError`; other refusals are `VendorError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TypeVar

import aiohttp
from livekit import api

from mla_core.core.errors import TransientError, VendorError

T = TypeVar("T")


@dataclass(frozen=True)
class DispatchRuleSpec:
    """What a tenant's inbound calls need: its numbers on the shared trunk, a room per call."""

    name: str
    trunk_id: str
    numbers: list[str]
    room_prefix: str
    agent_name: str
    job_metadata: str
    attributes: dict[str, str]

    def to_info(self) -> api.SIPDispatchRuleInfo:
        return api.SIPDispatchRuleInfo(
            name=self.name,
            trunk_ids=[self.trunk_id],
            numbers=self.numbers,
            rule=api.SIPDispatchRule(
                dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix=self.room_prefix)
            ),
            attributes=self.attributes,
            room_config=_agent_dispatch(self.agent_name, self.job_metadata),
        )


def agent_call_token(
    api_key: str,
    api_secret: str,
    *,
    identity: str,
    name: str,
    room: str,
    agent_name: str,
    job_metadata: str,
    ttl: timedelta,
) -> str:
    """A token that joins `room` (publish and subscribe) and dispatches `agent_name` into it, with
    `job_metadata` as the agent's job metadata: a call from a browser instead of a phone."""
    grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_grants(grants)
        .with_room_config(_agent_dispatch(agent_name, job_metadata))
        .with_ttl(ttl)
        .to_jwt()
    )


@dataclass(frozen=True)
class MeetingRoomSpec:
    """A meeting's room as the server creates it when the meeting starts: the note-taker dispatched
    with the meeting's ids and languages, and (when `recording` is given) an audio-only room-composite
    egress in its configuration, so LiveKit records from the first participant on."""

    name: str
    metadata: str
    notetaker_agent: str
    notetaker_metadata: str
    max_participants: int = 200
    empty_timeout_s: int = 600
    departure_timeout_s: int = 120
    recording: RecordingTarget | None = None

    def to_request(self) -> api.CreateRoomRequest:
        request = api.CreateRoomRequest(
            name=self.name,
            metadata=self.metadata,
            empty_timeout=self.empty_timeout_s,
            departure_timeout=self.departure_timeout_s,
            max_participants=self.max_participants,
            agents=[api.RoomAgentDispatch(agent_name=self.notetaker_agent, metadata=self.notetaker_metadata)],
        )
        if self.recording is not None:
            request.egress.CopyFrom(api.RoomEgress(room=self.recording.request(self.name)))
        return request


@dataclass(frozen=True)
class RecordingTarget:
    """Where a meeting's audio goes: an OGG file per meeting in S3 (`ap-south-1`), written by LiveKit's
    egress with the role it assumes (no keys of ours leave AWS)."""

    bucket: str
    region: str
    prefix: str  # recordings/<tenant>/<meeting>
    role_arn: str = ""
    external_id: str = ""  # what the role's trust policy asks of whoever assumes it
    endpoint: str = ""  # an S3-compatible endpoint (the local stack's moto); AWS's own when empty
    tags: dict[str, str] = field(default_factory=dict)

    def request(self, room: str) -> api.RoomCompositeEgressRequest:
        upload = api.S3Upload(
            bucket=self.bucket,
            region=self.region,
            assume_role_arn=self.role_arn,
            assume_role_external_id=self.external_id,
        )
        if self.endpoint:
            upload.endpoint, upload.force_path_style = self.endpoint, True
        output = api.EncodedFileOutput(
            file_type=api.EncodedFileType.OGG, filepath=f"{self.prefix}/{{room_name}}-{{time}}", s3=upload
        )
        return api.RoomCompositeEgressRequest(room_name=room, audio_only=True, file_outputs=[output])


@dataclass(frozen=True)
class MeetingGrants:
    """What one person may do in a meeting's room."""

    room_admin: bool
    can_publish: bool
    can_publish_sources: tuple[str, ...]  # empty: every source
    can_publish_data: bool
    can_subscribe: bool = True


def meeting_token(
    api_key: str,
    api_secret: str,
    *,
    identity: str,
    name: str,
    room: str,
    grants: MeetingGrants,
    attributes: dict[str, str],
    ttl: timedelta,
) -> str:
    """A token that joins a meeting's existing room with `grants` only: the room, its note-taker and its
    recording are the server's (`LiveKit.ensure_meeting_room`), so no room configuration rides along."""
    video = api.VideoGrants(
        room_join=True,
        room=room,
        room_admin=grants.room_admin,
        can_publish=grants.can_publish,
        can_publish_sources=list(grants.can_publish_sources),
        can_publish_data=grants.can_publish_data,
        can_subscribe=grants.can_subscribe,
    )
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_kind("standard")
        .with_attributes(attributes)
        .with_grants(video)
        .with_ttl(ttl)
        .to_jwt()
    )


def _agent_dispatch(agent_name: str, job_metadata: str) -> api.RoomConfiguration:
    return api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent_name, metadata=job_metadata)])


async def _stop_egress(request: api.StopEgressRequest, lk: api.LiveKitAPI) -> api.EgressInfo:
    return await lk.egress.stop_egress(request)


# The track sources a grant names, as LiveKit's permission enum has them.
_SOURCES = {
    "camera": api.TrackSource.CAMERA,
    "microphone": api.TrackSource.MICROPHONE,
    "screen_share": api.TrackSource.SCREEN_SHARE,
    "screen_share_audio": api.TrackSource.SCREEN_SHARE_AUDIO,
}


class LiveKit:
    def __init__(self, url: str, api_key: str, api_secret: str, *, timeout_s: float = 10.0) -> None:
        self._url, self._key, self._secret = url, api_key, api_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[api.LiveKitAPI]:
        async with api.LiveKitAPI(self._url, self._key, self._secret, timeout=self._timeout) as lk:
            yield lk

    async def _call(self, operation: str, fn: Callable[[api.LiveKitAPI], Awaitable[T]]) -> T:
        try:
            async with self._client() as lk:
                return await fn(lk)
        except api.TwirpError as exc:
            if exc.status >= 500 or exc.status == 429:
                raise TransientError(f"LiveKit {operation}: {exc.status} {exc.message}") from exc
            raise VendorError(f"LiveKit {operation}: {exc.code} {exc.message}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"LiveKit {operation}: unavailable ({type(exc).__name__})") from exc

    # Rooms ----------------------------------------------------------------------------------

    async def ensure_room(self, name: str, metadata: str) -> api.Room:
        """Create the room, or return it if it exists (CreateRoom is idempotent on the name)."""
        return await self._call(
            "CreateRoom", lambda lk: lk.room.create_room(api.CreateRoomRequest(name=name, metadata=metadata))
        )

    async def find_room(self, name: str) -> api.Room | None:
        listed = await self._call("ListRooms", lambda lk: lk.room.list_rooms(api.ListRoomsRequest(names=[name])))
        return next((room for room in listed.rooms if room.name == name), None)

    async def delete_room(self, name: str) -> None:
        """Delete the room; one that is already gone is fine."""
        if await self.find_room(name) is None:
            return
        try:
            await self._call("DeleteRoom", lambda lk: lk.room.delete_room(api.DeleteRoomRequest(room=name)))
        except VendorError:
            if await self.find_room(name) is not None:
                raise

    # Meetings -------------------------------------------------------------------------------

    async def ensure_meeting_room(self, spec: MeetingRoomSpec) -> api.Room:
        """Create the meeting's room with its note-taker and recording, or return it if it exists."""
        return await self._call("CreateRoom", lambda lk: lk.room.create_room(spec.to_request()))

    async def set_room_metadata(self, room: str, metadata: str) -> None:
        """The room's metadata, which every participant (the note-taker too) is told of when it changes."""
        await self._call(
            "UpdateRoomMetadata",
            lambda lk: lk.room.update_room_metadata(api.UpdateRoomMetadataRequest(room=room, metadata=metadata)),
        )

    async def set_publishing(self, room: str, identity: str, grants: MeetingGrants) -> None:
        """Change what a participant may publish: a host's mute takes the right to publish away (their
        microphone track is unpublished at once), an unmute gives back what their role allows."""
        permission = api.ParticipantPermission(
            can_subscribe=grants.can_subscribe,
            can_publish=grants.can_publish,
            can_publish_data=grants.can_publish_data,
            can_publish_sources=[_SOURCES[source] for source in grants.can_publish_sources],
        )
        await self._call(
            "UpdateParticipant",
            lambda lk: lk.room.update_participant(
                api.UpdateParticipantRequest(room=room, identity=identity, permission=permission)
            ),
        )

    async def remove_participant(self, room: str, identity: str) -> None:
        """Take a participant out of the room (their token still joins again until it expires, so the
        host's removal is also kept by us: `meetings.token` refuses them a new one)."""
        await self._call(
            "RemoveParticipant",
            lambda lk: lk.room.remove_participant(api.RoomParticipantIdentity(room=room, identity=identity)),
        )

    async def stop_recordings(self, room: str) -> int:
        """Stop every egress still recording `room`; how many were."""
        listed = await self._call(
            "ListEgress", lambda lk: lk.egress.list_egress(api.ListEgressRequest(room_name=room, active=True))
        )
        for info in listed.items:
            request = api.StopEgressRequest(egress_id=info.egress_id)
            await self._call("StopEgress", partial(_stop_egress, request))
        return len(listed.items)

    # SIP dispatch ---------------------------------------------------------------------------

    async def find_dispatch_rule(self, name: str, trunk_id: str) -> api.SIPDispatchRuleInfo | None:
        return (await self.dispatch_rules(trunk_id)).get(name)

    async def dispatch_rules(self, trunk_id: str) -> dict[str, api.SIPDispatchRuleInfo]:
        """Every dispatch rule on `trunk_id`, by name (one call serves a pass over every tenant)."""
        listed = await self._call(
            "ListSIPDispatchRule",
            lambda lk: lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest(trunk_ids=[trunk_id])),
        )
        return {rule.name: rule for rule in listed.items}

    async def ensure_dispatch_rule(self, spec: DispatchRuleSpec) -> api.SIPDispatchRuleInfo:
        """Create the tenant's rule, or bring an existing one (found by name) up to `spec`."""
        existing = await self.find_dispatch_rule(spec.name, spec.trunk_id)
        if existing is not None:
            rule_id = existing.sip_dispatch_rule_id
            return await self._call(
                "UpdateSIPDispatchRule", lambda lk: lk.sip.update_dispatch_rule(rule_id, spec.to_info())
            )
        return await self._call(
            "CreateSIPDispatchRule",
            lambda lk: lk.sip.create_dispatch_rule(api.CreateSIPDispatchRuleRequest(dispatch_rule=spec.to_info())),
        )

    async def delete_dispatch_rule(self, name: str, trunk_id: str) -> None:
        existing = await self.find_dispatch_rule(name, trunk_id)
        if existing is None:
            return
        rule_id = existing.sip_dispatch_rule_id
        await self._call(
            "DeleteSIPDispatchRule",
            lambda lk: lk.sip.delete_dispatch_rule(api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id)),
        )
