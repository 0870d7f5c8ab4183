"""The office's agent settings: saved in Postgres and Redis together, numbers move the SIP rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support import Api, Inspector, tenant_body, unique_number


def office(api: Api, admin_token: str) -> dict[str, Any]:
    body = tenant_body(languages=["ta", "en"])
    tenant = api.create_tenant(admin_token, body)
    invite = api.invite_token_for(body["admin_email"])
    session = api.http.post("/auth/register", json={"token": invite, "password": "office password 1"}).json()["data"]
    return {**tenant, "token": session["access_token"]}


@pytest.fixture(scope="module")
def a(api: Api, admin_token: str) -> dict[str, Any]:
    return office(api, admin_token)


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


def agent_of(api: Api, who: dict[str, Any]) -> dict[str, Any]:
    [agent] = api.request("GET", "/api/agents", who["token"]).json()["data"]
    return agent


def test_provisioning_created_the_offices_agent(api: Api, a: dict[str, Any]) -> None:
    agent = agent_of(api, a)
    assert agent["agent_id"] == f"{a['tenant_id']}-main"
    assert agent["status"] == "active" and agent["languages"] == ["ta", "en"]
    assert agent["phone_numbers"] == a["phone_numbers"]
    assert api.request("GET", f"/api/agents/{agent['agent_id']}", a["token"]).json()["data"] == agent


def test_a_change_reaches_redis_and_a_new_language_gets_the_recording_notice(
    api: Api, a: dict[str, Any], inspect: Inspector
) -> None:
    agent = agent_of(api, a)
    response = api.request(
        "PUT", f"/api/agents/{agent['agent_id']}", a["token"],
        json={"version": agent["version"], "languages": ["ta", "hi", "en"], "greetings": {"ta": "வணக்கம்!"}},
    )  # fmt: skip

    assert response.status_code == 200, response.text
    updated = response.json()["data"]
    assert updated["languages"] == ["ta", "hi", "en"] and updated["version"] == agent["version"] + 1
    assert updated["greetings"]["ta"].startswith("வணக்கம்!") and "பதிவு" in updated["greetings"]["ta"]
    cached = json.loads(inspect.redis_get(f"agent:config:{a['tenant_id']}"))
    assert cached["languages"] == ["ta", "hi", "en"] and cached["version"] == updated["version"]
    stale = api.request("PUT", f"/api/agents/{agent['agent_id']}", a["token"], json={"version": agent["version"]})
    assert stale.status_code == 409


def test_new_numbers_move_the_dispatch_rule_and_the_redis_mapping(
    api: Api, a: dict[str, Any], inspect: Inspector
) -> None:
    agent = agent_of(api, a)
    old, new = agent["phone_numbers"][0], unique_number()

    response = api.request(
        "PUT",
        f"/api/agents/{agent['agent_id']}",
        a["token"],
        json={"version": agent["version"], "phone_numbers": [new]},
    )

    assert response.status_code == 200, response.text
    [rule] = inspect.dispatch_rules(f"tenant-{a['tenant_id']}")
    assert list(rule.numbers) == [new]
    assert inspect.redis_get(f"agent:phone:{new}") == a["tenant_id"]
    assert inspect.redis_get(f"agent:phone:{old}") is None
    assert inspect.sql("SELECT tenant_id FROM platform.tenant_phone_numbers WHERE e164 = %s", old) == []


def test_a_number_owned_by_another_office_is_a_conflict_and_changes_nothing(
    api: Api, admin_token: str, a: dict[str, Any], inspect: Inspector
) -> None:
    other = api.create_tenant(admin_token)
    agent = agent_of(api, a)

    response = api.request(
        "PUT", f"/api/agents/{agent['agent_id']}", a["token"],
        json={"version": agent["version"], "phone_numbers": [unique_number(), other["phone_numbers"][0]]},
    )  # fmt: skip

    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "phone_numbers.1"
    assert agent_of(api, a) == agent
    [rule] = inspect.dispatch_rules(f"tenant-{a['tenant_id']}")
    assert list(rule.numbers) == agent["phone_numbers"]


def test_pausing_is_what_the_agent_reads(api: Api, a: dict[str, Any], inspect: Inspector) -> None:
    agent = agent_of(api, a)
    path = f"/api/agents/{agent['agent_id']}/status"

    paused = api.request("PUT", path, a["token"], json={"status": "paused", "version": agent["version"]})

    assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
    assert json.loads(inspect.redis_get(f"agent:config:{a['tenant_id']}"))["status"] == "paused"
    resumed = api.request(
        "PUT", path, a["token"], json={"status": "active", "version": paused.json()["data"]["version"]}
    )
    assert resumed.json()["data"]["status"] == "active"


def test_other_offices_cannot_reach_the_agent_and_it_stays_single(
    api: Api, admin_token: str, a: dict[str, Any]
) -> None:
    agent_id = agent_of(api, a)["agent_id"]
    other = office(api, admin_token)
    assert api.request("GET", f"/api/agents/{agent_id}", other["token"]).status_code == 404
    assert api.request("PUT", f"/api/agents/{agent_id}", other["token"], json={"version": 1}).status_code == 404
    assert api.request("DELETE", f"/api/agents/{agent_id}", other["token"]).status_code == 404
    assert api.request("POST", "/api/agents", a["token"]).status_code == 409
    assert api.request("DELETE", f"/api/agents/{agent_id}", a["token"]).status_code == 409
