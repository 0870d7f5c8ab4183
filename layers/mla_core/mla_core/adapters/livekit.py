"""LiveKit server API: the tenant's room and its SIP dispatch rule; and the token a browser joins a
test call with (`agent_call_token`).

Every call goes through `livekit-api` pointed at `settings.livekit_url` (LiveKit Cloud, a
self-hosted server, or the local Twirp stand-in). Errors become ours: 5xx, timeouts and network
failures are `TransientError`; other refusals are `VendorError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
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


def _agent_dispatch(agent_name: str, job_metadata: str) -> api.RoomConfiguration:
    return api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent_name, metadata=job_metadata)])


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
