"""The office's agents: saved in Postgres and Redis together, numbers move the SIP rule, an added
agent answers its own numbers and can be removed again, the main one cannot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from mla_core.adapters import get_services
from mla_core.agents.manage import AgentView
from mla_core.agents.routing import load_agent_config
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
    """The office's main agent (listed first)."""
    agent = api.request("GET", "/api/agents", who["token"]).json()["data"][0]
    assert agent["main"]
    return agent


def add_agent(api: Api, who: dict[str, Any], **body: Any) -> Any:
    return api.request("POST", "/api/agents", who["token"], json={"name": "Helpline", **body})


def test_provisioning_created_the_offices_agent(api: Api, a: dict[str, Any]) -> None:
    agent = agent_of(api, a)
    assert agent["agent_id"] == f"{a['tenant_id']}-main"
    assert agent["status"] == "active" and agent["languages"] == ["ta", "en"]
    assert agent["phone_numbers"] == a["phone_numbers"]
    assert api.request("GET", f"/api/agents/{agent['agent_id']}", a["token"]).json()["data"] == agent
    assert TypeAdapter(AgentView).validate_python(agent)["updated_at"].tzinfo is not None  # the declared shape


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


def test_other_offices_cannot_reach_the_agents_and_the_main_one_stays(
    api: Api, admin_token: str, a: dict[str, Any]
) -> None:
    other = office(api, admin_token)
    added = add_agent(api, a, name="Ward helpline", phone_numbers=[unique_number()]).json()["data"]
    for agent_id in (agent_of(api, a)["agent_id"], added["agent_id"]):
        assert api.request("GET", f"/api/agents/{agent_id}", other["token"]).status_code == 404
        assert api.request("PUT", f"/api/agents/{agent_id}", other["token"], json={"version": 1}).status_code == 404
        status = {"status": "paused", "version": 1}
        assert api.request("PUT", f"/api/agents/{agent_id}/status", other["token"], json=status).status_code == 404
        assert api.request("DELETE", f"/api/agents/{agent_id}", other["token"]).status_code == 404
    assert added["agent_id"] not in str(api.request("GET", "/api/agents", other["token"]).json())
    main = api.request("DELETE", f"/api/agents/{agent_of(api, a)['agent_id']}", a["token"])
    assert main.status_code == 409 and main.json()["error"]["details"][0]["reason"] == "main_agent"


def test_an_added_agent_answers_its_own_numbers_through_the_same_rule(
    api: Api, a: dict[str, Any], inspect: Inspector
) -> None:
    main, number = agent_of(api, a), unique_number()
    response = add_agent(
        api, a, name="Hindi helpline", phone_numbers=[number], languages=["hi"], greetings={"hi": "हिंदी हेल्पलाइन"}
    )

    assert response.status_code == 201, response.text
    added = response.json()["data"]
    assert added["agent_id"].startswith(f"{a['tenant_id']}-") and not added["main"]
    assert added["languages"] == ["hi"] and added["greetings"]["hi"].startswith("हिंदी हेल्पलाइन")
    assert added["categories"] == main["categories"] and added["version"] == 1
    listed = api.request("GET", "/api/agents", a["token"]).json()["data"]
    assert listed[0]["agent_id"] == main["agent_id"] and added in listed
    [rule] = inspect.dispatch_rules(f"tenant-{a['tenant_id']}")
    assert number in rule.numbers
    assert sorted(rule.numbers) == sorted(n for agent in listed for n in agent["phone_numbers"])
    assert inspect.redis_get(f"agent:phone:{number}") == a["tenant_id"]
    answering = [load_agent_config(get_services(), a["tenant_id"], n) for n in (number, main["phone_numbers"][0])]
    assert [config.agent_id if config else None for config in answering] == [added["agent_id"], main["agent_id"]]


def test_a_number_answered_by_another_agent_or_office_or_a_taken_name_is_a_conflict(
    api: Api, admin_token: str, a: dict[str, Any]
) -> None:
    other = api.create_tenant(admin_token)
    main = agent_of(api, a)
    before = api.request("GET", "/api/agents", a["token"]).json()["data"]

    ours = add_agent(api, a, name="Second line", phone_numbers=[unique_number(), main["phone_numbers"][0]])
    theirs = add_agent(api, a, name="Third line", phone_numbers=[other["phone_numbers"][0]])
    named = add_agent(api, a, name=main["name"].upper(), phone_numbers=[unique_number()])

    assert ours.status_code == 409 and ours.json()["error"]["details"][0] == {
        "field": "phone_numbers.1", "reason": "answered_by_another_agent",
        "value": main["phone_numbers"][0], "agent_id": main["agent_id"],
        "message": "This phone number is already answered by another agent.",
    }  # fmt: skip
    assert theirs.status_code == 409 and theirs.json()["error"]["details"][0]["reason"] == "already_taken"
    assert named.status_code == 409 and named.json()["error"]["details"][0]["field"] == "name"
    assert api.request("GET", "/api/agents", a["token"]).json()["data"] == before
    bad = add_agent(api, a, phone_numbers=["12345"])
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"].startswith("phone_numbers")


def test_removing_an_added_agent_frees_its_numbers_everywhere(
    api: Api, admin_token: str, a: dict[str, Any], inspect: Inspector
) -> None:
    number = unique_number()
    added = add_agent(api, a, name="Temporary line", phone_numbers=[number]).json()["data"]
    key = f"agent:config:{a['tenant_id']}:{added['agent_id']}"
    assert inspect.redis_get(key) is not None

    response = api.request("DELETE", f"/api/agents/{added['agent_id']}", a["token"])

    assert response.status_code == 200 and response.json()["data"]["deleted"] is True
    assert api.request("GET", f"/api/agents/{added['agent_id']}", a["token"]).status_code == 404
    assert api.request("DELETE", f"/api/agents/{added['agent_id']}", a["token"]).status_code == 404
    [rule] = inspect.dispatch_rules(f"tenant-{a['tenant_id']}")
    assert number not in rule.numbers and rule.numbers
    assert inspect.redis_get(key) is None and inspect.redis_get(f"agent:phone:{number}") is None
    assert inspect.sql("SELECT 1 FROM platform.tenant_phone_numbers WHERE e164 = %s", number) == []
    assert api.create_tenant(admin_token, tenant_body(phone_numbers=[number]))["status"] == "active"  # free again


def test_out_of_bounds_texts_are_refused_naming_the_field_and_the_agent_stays_as_it_was(
    api: Api, a: dict[str, Any], inspect: Inspector
) -> None:
    agent = agent_of(api, a)
    water = {"code": "water", "names": {"en": "Water supply"}, "sla_days": 7}
    cases = [
        ({"categories": [{**water, "code": "c" * 200_000}]}, "categories.0.code", "at most 40 characters"),
        ({"categories": [{**water, "names": {"en": "n" * 200_000}}]}, "categories.0.names.en", "at most 30 characters"),
        ({"categories": [{**water, "names": {"ta": "குடிநீர் evil.example/x"}}]}, "categories.0.names.ta", "no links"),
        ({"categories": [{**water, "names": {"en": "Call 9876543210"}}]}, "categories.0.names.en", "no phone numbers"),
        ({"voices": {"en": "v" * 101}}, "voices.en", "at most 100 characters"),
        ({"name": "n" * 61}, "name", "at most 60 characters"),
    ]
    for body, field, reason in cases:
        response = api.request(
            "PUT", f"/api/agents/{agent['agent_id']}", a["token"], json={"version": agent["version"], **body}
        )
        assert response.status_code == 422, response.text
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == field and reason in detail["reason"], detail
    assert agent_of(api, a)["version"] == agent["version"]
    cached = json.loads(inspect.redis_get(f"agent:config:{a['tenant_id']}"))
    assert all(len(c["code"]) <= 40 for c in cached["categories"])


def test_the_categories_an_agent_shows_can_be_saved_back_as_they_are(api: Api, a: dict[str, Any]) -> None:
    agent = agent_of(api, a)
    response = api.request(
        "PUT",
        f"/api/agents/{agent['agent_id']}",
        a["token"],
        json={"version": agent["version"], "categories": agent["categories"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["categories"] == agent["categories"]


def test_the_names_in_tamil_letters_are_saved_kept_by_other_edits_and_cleared_by_a_blank(
    api: Api, admin_token: str, inspect: Inspector
) -> None:
    who = office(api, admin_token)
    agent = agent_of(api, who)

    def put(**body: Any) -> Any:
        current = agent_of(api, who)
        return api.request(
            "PUT", f"/api/agents/{agent['agent_id']}", who["token"], json={"version": current["version"], **body}
        )

    saved = put(mla_name_local={"ta": "கே ராமன்"}, constituency_local={"ta": "மயிலாப்பூர்"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["constituency_local"] == {"ta": "மயிலாப்பூர்"}

    assert put(greetings={"ta": "வணக்கம்!"}).json()["data"]["mla_name_local"] == {"ta": "கே ராமன்"}
    cached = json.loads(inspect.redis_get(f"agent:config:{who['tenant_id']}"))
    assert cached["constituency_local"] == {"ta": "மயிலாப்பூர்"}  # what the agent and the SMS read

    assert put(mla_name_local={"ta": ""}).json()["data"]["mla_name_local"] == {}
    refused = put(constituency_local={"ta": "https://bad.example"})
    assert refused.status_code == 422 and agent_of(api, who)["constituency_local"] == {"ta": "மயிலாப்பூர்"}
