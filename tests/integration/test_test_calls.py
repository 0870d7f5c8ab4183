"""A test call in the browser: a LiveKit token for a fresh test room with the office's agent
dispatched, only when a real LiveKit server is configured, and only for the office's own agents."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from livekit import api

from mla_core.adapters import Services, get_services
from mla_core.agents import browser_calls
from mla_core.core.errors import ConflictError, NotFoundError
from mla_core.core.principal import Principal
from support import Api, tenant_body


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.create_tenant(admin_token, tenant_body())


def admin_of(tenant: dict[str, Any]) -> Principal:
    return Principal(user_id=str(uuid.uuid4()), email="a@example.in", role="mla_admin", tenant_id=tenant["tenant_id"])


def with_real_livekit() -> Services:
    settings = get_services().settings.model_copy(update={"livekit_url": "wss://mla.livekit.example"})
    return Services(settings)


def test_the_token_joins_a_fresh_test_room_with_the_agent_dispatched(office: dict[str, Any]) -> None:
    services = with_real_livekit()
    agent_id = f"{office['tenant_id']}-main"

    call = browser_calls.start(services, admin_of(office), agent_id)

    assert call["url"] == "wss://mla.livekit.example"
    assert call["room"].startswith(f"mla-{office['tenant_id']}-test-")
    claims = api.TokenVerifier(services.settings.livekit_api_key, services.settings.livekit_secret).verify(
        call["token"]
    )
    assert claims.video.room_join and claims.video.room == call["room"]
    [dispatch] = claims.room_config.agents
    assert dispatch.agent_name == services.settings.livekit_agent_name
    assert json.loads(dispatch.metadata) == {"tenant_id": office["tenant_id"], "agent_id": agent_id, "test_call": True}
    assert browser_calls.start(services, admin_of(office), agent_id)["room"] != call["room"]


def test_another_offices_agent_is_not_found(office: dict[str, Any], api: Api, admin_token: str) -> None:
    other = api.create_tenant(admin_token, tenant_body())
    with pytest.raises(NotFoundError):
        browser_calls.start(with_real_livekit(), admin_of(other), f"{office['tenant_id']}-main")


def test_without_a_real_livekit_there_is_no_test_call(office: dict[str, Any]) -> None:
    assert not browser_calls.available(get_services())  # the local stand-in speaks no WebRTC
    with pytest.raises(ConflictError):
        browser_calls.start(get_services(), admin_of(office), f"{office['tenant_id']}-main")
