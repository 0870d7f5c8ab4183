"""The reconciler settles every tenant a fault left behind its workflow, and finishes cleanups."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mla_core.adapters import get_services
from mla_core.core.names import room_name, schema_name
from mla_core.provisioning import operations, workflow
from mla_core.provisioning.reconcile import reconcile
from mla_core.provisioning.workflow import STEP_NAMES
from mla_core.tenants import registry
from mla_core.tenants.request import TenantRequest
from support import Api, Inspector, repairs_of, tenant_body

FAKE_EXECUTION = "arn:aws:states:ap-south-1:123456789012:execution:mla-voice-local-ProvisionStateMachine:gone-{}"


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


@pytest.fixture
def livekit_faults(stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.env["LIVEKIT_URL"]) as client:
        yield client
        client.delete("/_standin/faults")


def stranded_tenant(steps_done: list[str], *, execution_arn: str | None) -> str:
    """A tenant as a killed process leaves it: registered, `steps_done` really run, then nothing."""
    services = get_services()
    request = TenantRequest.model_validate(tenant_body())
    tenant_id = registry.new_tenant_id()
    with services.db.transaction() as conn:
        operations.register(conn, tenant_id, request)
        registry.update_tenant(conn, tenant_id, execution_arn=execution_arn)
    for step in steps_done:
        workflow.run_step(services, step, tenant_id)
    return tenant_id


def status(tenant_id: str) -> registry.Tenant:
    return operations.get_tenant(get_services(), tenant_id)


def test_a_request_that_never_started_its_execution_is_compensated_after_the_grace(inspect: Inspector) -> None:
    tenant_id = stranded_tenant([], execution_arn=None)

    assert repairs_of(reconcile(get_services()), tenant_id) == []  # within the grace: it may still start
    report = reconcile(get_services(), grace_seconds=0)

    assert repairs_of(report, tenant_id) == ["compensated"]
    tenant = status(tenant_id)
    assert tenant.status == "failed" and tenant.error is not None
    assert "never started" in tenant.error.message and tenant.error.cleanup_pending == []


def test_a_killed_execution_is_compensated_and_its_parts_removed(inspect: Inspector) -> None:
    tenant_id = stranded_tenant(["create_schema", "create_room"], execution_arn=FAKE_EXECUTION.format("a"))
    assert inspect.tables(schema_name(tenant_id))

    report = reconcile(get_services())

    assert repairs_of(report, tenant_id) == ["compensated"]
    assert status(tenant_id).status == "failed"
    assert inspect.tables(schema_name(tenant_id)) == set()
    assert inspect.room(room_name(tenant_id)) is None


def test_an_execution_that_ended_after_every_step_activates_the_tenant() -> None:
    done = [name for name in STEP_NAMES if name != "activate"]
    tenant_id = stranded_tenant(done, execution_arn=FAKE_EXECUTION.format("b"))

    assert repairs_of(reconcile(get_services()), tenant_id) == ["activated"]
    assert status(tenant_id).status == "active"


def test_a_cleanup_that_cannot_finish_is_marked_and_finished_later(
    api: Api, admin_token: str, livekit_faults: httpx.Client, inspect: Inspector
) -> None:
    tenant_id = stranded_tenant(["create_schema", "create_room"], execution_arn=FAKE_EXECUTION.format("c"))
    livekit_faults.post(
        "/_standin/faults", json={"method": "livekit.RoomService/DeleteRoom", "status": 503, "times": 50}
    )

    report = reconcile(get_services())

    assert repairs_of(report, tenant_id) == ["cleanup_pending"]
    tenant = status(tenant_id)
    assert tenant.status == "failed" and tenant.error is not None
    assert tenant.error.cleanup_pending == ["create_room", "create_schema"]
    panel = api.http.get(f"/admin/panel/tenants/{tenant_id}", headers={"cookie": f"mla_session={admin_token}"})
    assert 'data-testid="cleanup-pending"' in panel.text and "create_room" in panel.text
    # Retry cleans up first: while it cannot, the answer says so and changes nothing.
    refused = api.request("POST", f"/admin/tenants/{tenant_id}/retry", admin_token)
    assert refused.status_code == 503, refused.text
    assert "cleanup" in refused.json()["error"]["message"]

    livekit_faults.delete("/_standin/faults")
    assert repairs_of(reconcile(get_services()), tenant_id) == ["cleaned_up"]
    tenant = status(tenant_id)
    assert tenant.status == "failed" and tenant.error is not None and tenant.error.cleanup_pending == []
    assert inspect.room(room_name(tenant_id)) is None and inspect.tables(schema_name(tenant_id)) == set()

    retried = api.request("POST", f"/admin/tenants/{tenant_id}/retry", admin_token)
    assert retried.status_code == 202, retried.text
    assert operations.wait_until_settled(get_services(), tenant_id, 20).status == "active"


def test_a_tenant_with_cleanup_pending_can_be_deleted(api: Api, admin_token: str, livekit_faults: httpx.Client) -> None:
    tenant_id = stranded_tenant(["create_schema", "create_room"], execution_arn=FAKE_EXECUTION.format("d"))
    livekit_faults.post(
        "/_standin/faults", json={"method": "livekit.RoomService/DeleteRoom", "status": 503, "times": 5}
    )
    assert repairs_of(reconcile(get_services()), tenant_id) == ["cleanup_pending"]
    livekit_faults.delete("/_standin/faults")

    deleted = api.request("DELETE", f"/admin/tenants/{tenant_id}", admin_token)

    assert deleted.status_code in (200, 202), deleted.text


def test_migrations_leave_a_compensated_tenant_without_a_schema(inspect: Inspector) -> None:
    from mla_core import cli

    tenant_id = stranded_tenant(["create_schema"], execution_arn=FAKE_EXECUTION.format("e"))
    reconcile(get_services())
    assert inspect.tables(schema_name(tenant_id)) == set()

    cli.migrate(get_services(), workers=2)

    assert inspect.tables(schema_name(tenant_id)) == set()


def test_an_active_tenants_lost_dispatch_rule_is_put_back(api: Api, admin_token: str, inspect: Inspector) -> None:
    tenant = api.create_tenant(admin_token, tenant_body())
    tenant_id = tenant["tenant_id"]
    services = get_services()
    from mla_core.agents.routing import sip_trunk_id
    from mla_core.core.names import dispatch_rule_name

    asyncio.run(services.livekit.delete_dispatch_rule(dispatch_rule_name(tenant_id), sip_trunk_id(services)))
    assert inspect.dispatch_rules(dispatch_rule_name(tenant_id)) == []

    report = reconcile(services)

    assert repairs_of(report, tenant_id) == ["routes_repaired"]
    [rule] = inspect.dispatch_rules(dispatch_rule_name(tenant_id))
    assert list(rule.numbers) == tenant["phone_numbers"]
    assert repairs_of(reconcile(services), tenant_id) == []  # nothing left to repair
