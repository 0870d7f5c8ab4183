"""A test call in the browser: a LiveKit token for a fresh room `mla-<tenant>-test-<random>`, with the
office's agent dispatched into it by the token's room configuration.

Only offered when a real LiveKit server is configured (`LIVEKIT_URL` is `wss://…`): the local
stand-in speaks LiveKit's server API, not the WebRTC protocol a browser and the worker need.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from typing_extensions import TypedDict

from mla_core.adapters import Services
from mla_core.agents import manage
from mla_core.core.errors import ConflictError
from mla_core.core.names import test_call_room
from mla_core.core.principal import OfficeUser

TOKEN_TTL = timedelta(minutes=15)


def available(services: Services) -> bool:
    return services.settings.livekit_url.startswith("wss://")


class BrowserCall(TypedDict):
    """What the browser joins a test call with."""

    url: str
    token: str
    room: str


def start(services: Services, who: OfficeUser, agent_id: str) -> BrowserCall:
    """The URL and token the browser joins with; the agent answers as it would a call to its number."""
    if not available(services):
        raise ConflictError(
            "a test call needs a real LiveKit server (LIVEKIT_URL=wss://…)",
            details=[{"field": "agent_id", "reason": "livekit_not_configured"}],
        )
    # The LiveKit SDK loads with the first test call, not with the dashboard.
    from mla_core.adapters.livekit import agent_call_token

    agent = manage.get_agent(services, who, agent_id)  # another office's agent is 404
    room = test_call_room(who.tenant_id, secrets.token_hex(4))
    settings = services.settings
    token = agent_call_token(
        settings.livekit_api_key,
        settings.livekit_secret,
        identity=f"web-{who.user_id}",
        name=who.email,
        room=room,
        agent_name=settings.livekit_agent_name,
        job_metadata=json.dumps({"tenant_id": who.tenant_id, "agent_id": agent["agent_id"], "test_call": True}),
        ttl=TOKEN_TTL,
    )
    return {"url": settings.livekit_url, "token": token, "room": room}
