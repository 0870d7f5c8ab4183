"""An agent number change with one part failing at a time: Postgres is the source of truth, LiveKit's
dispatch rule and Redis follow it after the commit, a change they do not have yet shows as pending,
and `sync_routes` (what the reconciler runs for every active tenant) brings them back to Postgres."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mla_core.adapters import Services, get_services
from mla_core.agents.routing import dispatch_rule_spec
from mla_core.agents.sync import sync_routes
from mla_core.core.errors import TransientError
from mla_core.tenants import registry
from support import Api, Inspector, Pages, tenant_body, unique_number

RULE_UPDATE = "livekit.SIP/UpdateSIPDispatchRule"


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


@pytest.fixture
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


@pytest.fixture(autouse=True)
def _no_leftover_standin_faults(stack: Any) -> Iterator[None]:
    yield
    for url in (stack.env["LIVEKIT_URL"], stack.env["UPSTASH_REDIS_REST_URL"]):
        httpx.delete(f"{url}/_standin/faults")


def inject(url: str, method: str, status: int = 500, times: int = 1) -> None:
    added = httpx.post(f"{url}/_standin/faults", json={"method": method, "status": status, "times": times})
    assert added.status_code == 201, added.text


def main_agent(api: Api, who: dict[str, Any]) -> dict[str, Any]:
    return api.request("GET", "/api/agents", who["token"]).json()["data"][0]  # type: ignore[no-any-return]


def change_numbers(api: Api, who: dict[str, Any], numbers: list[str]) -> httpx.Response:
    agent = main_agent(api, who)
    body = {"version": agent["version"], "phone_numbers": numbers}
    return api.request("PUT", f"/api/agents/{agent['agent_id']}", who["token"], json=body)


def postgres_numbers(inspect: Inspector, tenant_id: str) -> list[str]:
    rows = inspect.sql(
        "SELECT e164 FROM platform.tenant_phone_numbers WHERE tenant_id = %s ORDER BY position", tenant_id
    )
    return [row[0] for row in rows]


def rule_numbers(inspect: Inspector, tenant_id: str) -> list[str]:
    [rule] = inspect.dispatch_rules(f"tenant-{tenant_id}")
    return list(rule.numbers)


def pending_rows(inspect: Inspector, tenant_id: str) -> list[Any]:
    return inspect.sql("SELECT since FROM platform.agent_routes_pending WHERE tenant_id = %s", tenant_id)


def wait_until_redis_answers(services: Services, timeout: float = 15) -> None:
    """After an injected Redis failure, our adapter skips Redis for a moment: wait that out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            services.agent_configs.get("0000000000")
            return
        except TransientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def assert_routes_equal_postgres(inspect: Inspector, tenant_id: str, *, released: list[str]) -> None:
    numbers = postgres_numbers(inspect, tenant_id)
    assert sorted(rule_numbers(inspect, tenant_id)) == sorted(numbers)
    redis = inspect.redis()
    for number in numbers:
        assert redis.get(f"agent:phone:{number}") == tenant_id
        assert redis.hget(f"agent:routes:{tenant_id}", number) is not None
    for number in released:
        assert redis.get(f"agent:phone:{number}") != tenant_id
        assert redis.hget(f"agent:routes:{tenant_id}", number) is None
    [(config,)] = inspect.sql("SELECT config FROM platform.agent_configs WHERE agent_id = %s", f"{tenant_id}-main")
    assert json.loads(redis.get(f"agent:config:{tenant_id}"))["version"] == config["version"]
    assert pending_rows(inspect, tenant_id) == []


def agents_page(api: Api, who: dict[str, Any]) -> str:
    """The agent settings page as the office's admin sees it, signed in through the login form."""
    pages = Pages(api.http)
    signed_in = pages.sign_in(who["admin_email"], "office password 1")
    assert signed_in.status_code in (302, 303), signed_in.text
    page = pages.send("GET", "/app/agents")
    assert page.status_code == 200, page.text
    return page.text


def test_livekit_failing_after_the_commit_leaves_the_change_saved_and_pending_until_sync(
    api: Api, admin_token: str, stack: Any, inspect: Inspector, office: dict[str, Any]
) -> None:
    tenant_id, [old], new = office["tenant_id"], office["phone_numbers"], unique_number()
    inject(stack.env["LIVEKIT_URL"], RULE_UPDATE)

    response = change_numbers(api, office, [new])

    assert response.status_code == 200, response.text
    assert response.json()["data"]["phone_numbers"] == [new]
    assert response.json()["data"]["routes_pending_since"] is not None
    assert postgres_numbers(inspect, tenant_id) == [new]  # Postgres has it
    assert rule_numbers(inspect, tenant_id) == [old]  # LiveKit does not, yet
    assert main_agent(api, office)["routes_pending_since"] == response.json()["data"]["routes_pending_since"]
    assert 'data-testid="routes-pending"' in agents_page(api, office)

    changes = sync_routes(get_services(), tenant_id)

    assert {(c.target, c.action) for c in changes} >= {("livekit", "update_rule"), ("redis", "release_number")}
    assert_routes_equal_postgres(inspect, tenant_id, released=[old])
    assert main_agent(api, office)["routes_pending_since"] is None
    assert 'data-testid="routes-pending"' not in agents_page(api, office)
    assert sync_routes(get_services(), tenant_id) == []  # nothing left to repair
    # The number Postgres freed is free in LiveKit too: another office can be provisioned with it.
    assert api.create_tenant(admin_token, tenant_body(phone_numbers=[old]))["status"] == "active"


def test_redis_failing_after_the_commit_still_moves_the_rule_and_sync_finishes_redis(
    api: Api, stack: Any, inspect: Inspector, office: dict[str, Any]
) -> None:
    tenant_id, [old], new = office["tenant_id"], office["phone_numbers"], unique_number()
    inject(stack.env["UPSTASH_REDIS_REST_URL"], "SET", times=10)

    response = change_numbers(api, office, [new])

    assert response.status_code == 200, response.text
    assert response.json()["data"]["routes_pending_since"] is not None
    assert postgres_numbers(inspect, tenant_id) == [new]
    assert rule_numbers(inspect, tenant_id) == [new]  # LiveKit followed Postgres; Redis could not
    assert inspect.redis_get(f"agent:phone:{old}") == tenant_id
    assert len(pending_rows(inspect, tenant_id)) == 1

    httpx.delete(f"{stack.env['UPSTASH_REDIS_REST_URL']}/_standin/faults")
    wait_until_redis_answers(get_services())
    changes = sync_routes(get_services(), tenant_id)

    assert {c.target for c in changes} == {"redis"}
    assert ("release_number", old) in {(c.action, c.subject) for c in changes}
    assert_routes_equal_postgres(inspect, tenant_id, released=[old])


def test_a_database_failure_before_the_commit_changes_nothing_anywhere(
    api: Api, inspect: Inspector, office: dict[str, Any]
) -> None:
    tenant_id, before = office["tenant_id"], office["phone_numbers"]
    refuse = f"refuse_agent_change_{tenant_id}"
    inspect.sql(
        f"CREATE FUNCTION platform.{refuse}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN IF NEW.tenant_id = '{tenant_id}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$"
    )
    inspect.sql(
        f"CREATE TRIGGER {refuse} BEFORE UPDATE ON platform.agent_configs"
        f" FOR EACH ROW EXECUTE FUNCTION platform.{refuse}()"
    )
    try:
        failed = change_numbers(api, office, [unique_number()])
    finally:
        inspect.sql(f"DROP TRIGGER {refuse} ON platform.agent_configs")
        inspect.sql(f"DROP FUNCTION platform.{refuse}()")
    invalid = change_numbers(api, office, ["12345"])

    assert failed.status_code >= 500 and invalid.status_code == 422
    assert postgres_numbers(inspect, tenant_id) == before
    assert rule_numbers(inspect, tenant_id) == before
    assert inspect.redis_get(f"agent:phone:{before[0]}") == tenant_id
    assert pending_rows(inspect, tenant_id) == []
    assert main_agent(api, office)["version"] == 1
    assert sync_routes(get_services(), tenant_id) == []


def test_sync_removes_a_number_postgres_calls_free_from_a_stale_rule_and_redis(
    api: Api, admin_token: str, inspect: Inspector, office: dict[str, Any]
) -> None:
    services, tenant_id, stale = get_services(), office["tenant_id"], unique_number()
    with services.db.transaction() as conn:
        tenant = registry.get_tenant(conn, tenant_id, with_steps=False)
    spec = dispatch_rule_spec(services, tenant)
    asyncio.run(services.livekit.ensure_dispatch_rule(dataclasses.replace(spec, numbers=[*spec.numbers, stale])))
    redis = inspect.redis()
    redis.set(f"agent:phone:{stale}", tenant_id)
    redis.hset(f"agent:routes:{tenant_id}", stale, f"{tenant_id}-main")
    redis.delete(f"agent:config:{tenant_id}")
    blocked = api.request("POST", "/admin/tenants", admin_token, json=tenant_body(phone_numbers=[stale]))
    blocked_tenant = api.wait_for(admin_token, blocked.json()["data"]["tenant_id"], "active", "failed")
    assert blocked_tenant["status"] == "failed"  # what drift did: the rule still held the number

    changes = sync_routes(services, tenant_id)

    assert {(c.target, c.action) for c in changes} == {
        ("livekit", "update_rule"),
        ("redis", "write_config"),
        ("redis", "route_number"),  # without the main agent's config its numbers led nowhere
        ("redis", "release_number"),
    }
    assert_routes_equal_postgres(inspect, tenant_id, released=[stale])
    retried = api.request("POST", f"/admin/tenants/{blocked_tenant['tenant_id']}/retry", admin_token)
    assert retried.status_code == 202, retried.text
    assert api.wait_for(admin_token, blocked_tenant["tenant_id"], "active", "failed")["status"] == "active"


def test_removing_an_agent_while_redis_fails_is_finished_by_sync(
    api: Api, stack: Any, inspect: Inspector, office: dict[str, Any]
) -> None:
    tenant_id, number = office["tenant_id"], unique_number()
    added = api.request("POST", "/api/agents", office["token"], json={"name": "Helpline", "phone_numbers": [number]})
    assert added.status_code == 201 and added.json()["data"]["routes_pending_since"] is None
    agent_id = added.json()["data"]["agent_id"]
    inject(stack.env["UPSTASH_REDIS_REST_URL"], "*", times=10)

    removed = api.request("DELETE", f"/api/agents/{agent_id}", office["token"])

    assert removed.status_code == 200, removed.text
    assert number not in rule_numbers(inspect, tenant_id)
    httpx.delete(f"{stack.env['UPSTASH_REDIS_REST_URL']}/_standin/faults")
    assert inspect.redis_get(f"agent:config:{tenant_id}:{agent_id}") is not None  # Redis missed the removal
    assert main_agent(api, office)["routes_pending_since"] is not None

    wait_until_redis_answers(get_services())
    changes = sync_routes(get_services(), tenant_id)

    assert ("forget_agent", agent_id) in {(c.action, c.subject) for c in changes}
    assert inspect.redis_get(f"agent:config:{tenant_id}:{agent_id}") is None
    assert_routes_equal_postgres(inspect, tenant_id, released=[number])
