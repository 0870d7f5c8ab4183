"""One API call provisions a tenant: the real ASL executed by moto, every step in-process."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from psycopg import sql

from local_stack.aws import LambdaContext
from mla_core.db.migrate import load_migrations
from support import Api, Inspector, tenant_body, unique_number

STEPS = [
    "create_schema", "create_room", "configure_sip_dispatch", "store_agent_config",
    "create_dashboard_login", "send_welcome_email", "activate",
]  # fmt: skip
FUNCTION = {
    "create_schema": "CreateSchemaFunction", "create_room": "CreateRoomFunction",
    "configure_sip_dispatch": "ConfigureSipDispatchFunction", "store_agent_config": "StoreAgentConfigFunction",
    "create_dashboard_login": "CreateDashboardLoginFunction", "send_welcome_email": "SendWelcomeEmailFunction",
    "activate": "ActivateFunction",
}  # fmt: skip


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


def function_name(step: str) -> str:
    return f"mla-voice-local-{FUNCTION[step]}"


def test_one_call_provisions_every_part_of_a_tenant(api: Api, admin_token: str, stack: Any, inspect: Inspector) -> None:
    numbers = [unique_number(), unique_number()]
    body = tenant_body(languages=["hi", "en"], phone_numbers=numbers, mla_name="Ravi Kumar", state="Uttar Pradesh")
    response = api.request("POST", "/admin/tenants", admin_token, json=body, params={"wait": "true"})

    assert response.status_code == 201, response.text
    tenant = response.json()["data"]
    tenant_id = tenant["tenant_id"]
    assert tenant["status"] == "active"
    assert [(s["name"], s["status"]) for s in tenant["steps"]] == [(name, "succeeded") for name in STEPS]
    assert all(s["started_at"] and s["finished_at"] and s["error"] is None for s in tenant["steps"])

    # Database: the schema at the latest tenant migration.
    schema = f"tenant_{tenant_id}"
    assert inspect.tables(schema) >= {"complaints", "calls", "complaint_events", "notifications", "schema_migrations"}
    versions = inspect.sql(sql.SQL("SELECT version FROM {}.schema_migrations").format(sql.Identifier(schema)))
    assert versions == [(m.version,) for m in load_migrations("tenant")]

    # LiveKit: the tenant's room, with its metadata.
    room = inspect.room(f"mla-{tenant_id}")
    assert json.loads(room.metadata)["tenant_id"] == tenant_id

    # SIP dispatch: one rule on the shared trunk, the tenant's numbers, a room per call, the agent by name.
    [rule] = inspect.dispatch_rules(f"tenant-{tenant_id}")
    assert rule.sip_dispatch_rule_id == tenant["sip_dispatch_rule_id"]
    assert list(rule.trunk_ids) == [stack.env["LIVEKIT_SIP_TRUNK_ID"]]
    assert list(rule.numbers) == numbers
    assert rule.rule.WhichOneof("rule") == "dispatch_rule_individual"
    assert rule.rule.dispatch_rule_individual.room_prefix == f"mla-{tenant_id}-call"
    [agent] = rule.room_config.agents
    assert agent.agent_name == "mla-voice-agent"
    assert json.loads(agent.metadata) == {"tenant_id": tenant_id}
    assert dict(rule.attributes) == {"tenant_id": tenant_id}

    # Redis: the agent config and each number's mapping.
    config = inspect.redis_get(f"agent:config:{tenant_id}")
    config = json.loads(config)
    assert config["schema_version"] == 1 and config["languages"] == ["hi", "en"]
    assert config["profiles"]["hi"]["greeting"].startswith("नमस्ते")
    for number in numbers:
        assert inspect.redis_get(f"agent:phone:{number}") == tenant_id

    # The MLA admin, invited: a member row and one invitation link in our records (its token only as
    # a hash), and no Supabase Auth login until the invitation is accepted.
    [(user_id, role)] = inspect.sql("SELECT user_id::text, role FROM platform.users WHERE tenant_id = %s", tenant_id)
    assert role == "mla_admin" and tenant["admin_user_id"] == user_id
    [(purpose, hash_length)] = inspect.sql(
        "SELECT purpose, length(token_hash) FROM platform.sign_in_links WHERE user_id = %s AND used_at IS NULL",
        user_id,
    )
    assert (purpose, hash_length) == ("invite", 32)
    assert inspect.auth_users(body["admin_email"]) == []

    # SES: the welcome email with the sign-in link, in English and Hindi.
    [email] = [m for m in api.outbox() if m["to"] == body["admin_email"]]
    assert "/register?token=" in email["body"]
    assert "Ravi Kumar" in email["body"] and "स्वागत" in email["body"]
    assert "invite_token" not in json.dumps(api.tenant(admin_token, tenant_id))

    # Accepted, the login is made in Supabase Auth with our user id, the tenant and the role.
    registered = api.http.post(
        "/auth/register", json={"token": api.invite_token_for(body["admin_email"]), "password": "office password 1"}
    )
    assert registered.status_code == 201, registered.text
    [user] = inspect.auth_users(body["admin_email"])
    assert user.id == user_id
    assert user.app_metadata["tenant_id"] == tenant_id
    assert user.app_metadata["role"] == "mla_admin"


@pytest.mark.parametrize("step", STEPS)
def test_a_failure_at_any_step_leaves_nothing_behind_and_retry_succeeds(
    step: str, api: Api, admin_token: str, stack: Any, inspect: Inspector
) -> None:
    # The step does its work, then fails: compensation must undo that too. (The last step fails
    # before its work, or the tenant would be seen active for a moment.)
    stack.moto.runner.inject_fault(
        function_name(step), error_type="InjectedFault", message="boom", after_handler=step != "activate"
    )
    requested = api.create_tenant(admin_token, wait=False)
    tenant = api.wait_for(admin_token, requested["tenant_id"], "failed")

    assert tenant["status"] == "failed"
    assert tenant["error"]["step"] == step
    assert "InjectedFault" in tenant["error"]["message"]
    statuses = {s["name"]: s for s in tenant["steps"]}
    assert statuses[step]["status"] == "failed" and "boom" in statuses[step]["error"]
    assert all(statuses[name]["status"] == "compensated" for name in STEPS[: STEPS.index(step)])
    assert all(statuses[name]["status"] == "pending" for name in STEPS[STEPS.index(step) + 1 :])
    assert inspect.leftovers(tenant) == {}

    retried = api.request("POST", f"/admin/tenants/{tenant['tenant_id']}/retry", admin_token)
    assert retried.status_code == 202, retried.text
    active = api.wait_for(admin_token, tenant["tenant_id"], "active", "failed")
    assert active["status"] == "active", active
    assert active["error"] is None


def test_a_transient_livekit_outage_is_retried_by_the_state_machine(api: Api, admin_token: str, stack: Any) -> None:
    livekit = stack.env["LIVEKIT_URL"]
    httpx.post(
        f"{livekit}/_standin/faults", json={"method": "livekit.RoomService/CreateRoom", "status": 503, "times": 1}
    )
    before = len(stack.moto.runner.invocations_of(function_name("create_room")))

    tenant = api.create_tenant(admin_token)

    assert tenant["status"] == "active"
    attempts = stack.moto.runner.invocations_of(function_name("create_room"))[before:]
    assert len(attempts) == 2


def test_a_retry_is_refused_unless_the_tenant_failed(api: Api, admin_token: str) -> None:
    tenant = api.create_tenant(admin_token)
    response = api.request("POST", f"/admin/tenants/{tenant['tenant_id']}/retry", admin_token)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_running_every_step_again_after_success_changes_nothing(
    api: Api, admin_token: str, stack: Any, inspect: Inspector
) -> None:
    from local_stack.template import function

    handlers = function("CreateSchemaFunction").import_module()

    body = tenant_body()
    tenant = api.create_tenant(admin_token, body)
    emails_before = len(api.outbox())

    for step in STEPS:
        context = LambdaContext(function_name(step), f"arn:local:{step}", 512, "again", deadline=time.time() + 60)
        assert getattr(handlers, step)({"tenant_id": tenant["tenant_id"]}, context) == {
            "tenant_id": tenant["tenant_id"]
        }

    again = api.tenant(admin_token, tenant["tenant_id"])
    assert again["status"] == "active"
    assert again["sip_dispatch_rule_id"] == tenant["sip_dispatch_rule_id"]
    assert [s["finished_at"] for s in again["steps"]] == [s["finished_at"] for s in tenant["steps"]]
    assert len(inspect.dispatch_rules(f"tenant-{tenant['tenant_id']}")) == 1
    assert len(inspect.sql("SELECT 1 FROM platform.users WHERE tenant_id = %s", tenant["tenant_id"])) == 1
    assert len(inspect.sql("SELECT 1 FROM platform.sign_in_links WHERE tenant_id = %s", tenant["tenant_id"])) == 1
    assert len(api.outbox()) == emails_before


def test_redis_is_rebuilt_from_postgres(api: Api, admin_token: str, stack: Any, inspect: Inspector) -> None:
    from upstash_redis import Redis

    from mla_core import cli
    from mla_core.adapters import get_services

    tenant = api.create_tenant(admin_token)
    redis = Redis(stack.env["UPSTASH_REDIS_REST_URL"], stack.env["UPSTASH_REDIS_REST_TOKEN"], rest_retries=0)
    redis.delete(f"agent:config:{tenant['tenant_id']}", *(f"agent:phone:{n}" for n in tenant["phone_numbers"]))

    result = cli.rebuild_redis(get_services())

    assert result["tenants_written"] >= 1
    assert json.loads(inspect.redis_get(f"agent:config:{tenant['tenant_id']}"))["tenant_id"] == tenant["tenant_id"]
    assert inspect.redis_get(f"agent:phone:{tenant['phone_numbers'][0]}") == tenant["tenant_id"]
