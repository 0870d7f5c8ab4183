"""A test call in the browser: a LiveKit token for a fresh room `mla-<tenant>-test-<random>`, with the
office's agent dispatched into it by the token's room configuration.

Only offered when a real LiveKit server is configured (`LIVEKIT_URL` is `wss://…`): the local
stand-in speaks LiveKit's server API, not the WebRTC protocol a browser and the worker need.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from mla_core.adapters import Services
from mla_core.agents import manage
from mla_core.core.errors import ConflictError
from mla_core.core.names import test_call_room
from mla_core.core.principal import OfficeUser

TOKEN_TTL = timedelta(minutes=15)


def available(services: Services) -> bool:
    return services.settings.livekit_url.startswith("wss://")


def start(services: Services, who: OfficeUser, agent_id: str) -> dict[str, Any]:
    """The URL and token the browser joins with; the agent answers as it would a call to its number."""
    from livekit import api

    if not available(services):
        raise ConflictError(
            "a test call needs a real LiveKit server (LIVEKIT_URL=wss://…)",
            details=[{"field": "agent_id", "reason": "livekit_not_configured"}],
        )
    agent = manage.get_agent(services, who, agent_id)  # another office's agent is 404
    room = test_call_room(who.tenant_id, secrets.token_hex(4))
    metadata = json.dumps({"tenant_id": who.tenant_id, "agent_id": agent["agent_id"], "test_call": True})
    settings = services.settings
    token = (
        api.AccessToken(settings.livekit_api_key, settings.livekit_secret)
        .with_identity(f"web-{who.user_id}")
        .with_name(who.email)
        .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True))
        .with_room_config(
            api.RoomConfiguration(
                agents=[api.RoomAgentDispatch(agent_name=settings.livekit_agent_name, metadata=metadata)]
            )
        )
        .with_ttl(TOKEN_TTL)
        .to_jwt()
    )
    return {"url": settings.livekit_url, "token": token, "room": room}
