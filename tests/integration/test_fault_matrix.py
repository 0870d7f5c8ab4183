"""The fault matrix's cells not covered where their feature is tested: one part really stopped, and
each answer checked for no stuck state, no loss and a clear error that names no internal host."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from mla_core.adapters import Services, get_services
from mla_core.adapters.aws import AwsTimeouts, Workflows
from mla_core.core.errors import TransientError
from mla_core.core.settings import get_settings
from mla_core.provisioning import operations
from mla_core.provisioning.reconcile import reconcile
from mla_core.tenants.request import TenantRequest
from support import Api, repairs_of, tenant_body

INTERNAL = ("127.0.0.1", "localhost", "postgresql://", "http://", "psycopg")


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


def walk_in() -> dict[str, Any]:
    return {"category": "water", "description": "No water for three days", "location": "Ward 3"}


def clear(error: dict[str, Any]) -> None:
    """A refusal a person can act on, which says nothing of our insides."""
    assert error["code"] == "service_unavailable", error
    assert not any(word in error["message"] for word in INTERNAL), error


def test_with_postgres_down_a_dashboard_write_is_refused_clearly_and_lands_once_it_is_back(
    api: Api, office: dict[str, Any], postgres_down: None
) -> None:
    created = api.request("POST", "/api/complaints", office["token"], json=walk_in())
    patched = api.request(
        "PATCH", "/api/complaints/1", office["token"], json={"priority": "high"}, headers={"If-Match": "1"}
    )

    for answer in (created, patched):
        assert answer.status_code == 503, answer.text
        clear(answer.json()["error"])
        assert answer.headers["retry-after"] == "5"


def test_after_postgres_returns_the_same_write_succeeds(api: Api, office: dict[str, Any]) -> None:
    created = api.request("POST", "/api/complaints", office["token"], json=walk_in())

    assert created.status_code == 201, created.text


def test_redis_down_through_provisioning_ends_failed_and_the_cleanup_finishes_when_it_returns(
    api: Api, admin_token: str, redis_down: Callable[[], None]
) -> None:
    """The issue's reproduction: Redis gone for the whole execution, so the agent-config step and
    then its undo fail until retries run out; the tenant must not stay `provisioning`."""
    services = get_services()
    tenant_id = api.create_tenant(admin_token, tenant_body(), wait=False)["tenant_id"]
    execution = _execution_arn(tenant_id)
    deadline = time.monotonic() + 60
    while services.workflows.status(execution) == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)

    assert repairs_of(reconcile(services), tenant_id) == ["cleanup_pending"]
    tenant = operations.get_tenant(services, tenant_id)
    assert (
        tenant.status == "failed" and tenant.error is not None and "store_agent_config" in tenant.error.cleanup_pending
    )

    redis_down()  # Redis is back
    assert repairs_of(reconcile(services), tenant_id) == ["cleaned_up"]
    retried = api.request("POST", f"/admin/tenants/{tenant_id}/retry", admin_token)
    assert retried.status_code == 202, retried.text
    assert operations.wait_until_settled(services, tenant_id, 30).status == "active"


def _execution_arn(tenant_id: str) -> str:
    with get_services().db.transaction() as conn:
        row = conn.execute("SELECT execution_arn FROM platform.tenants WHERE tenant_id = %s", (tenant_id,)).fetchone()
    assert row is not None and row["execution_arn"], "the execution did not start"
    return str(row["execution_arn"])


def test_with_step_functions_unreachable_a_new_tenant_fails_clearly_and_retry_provisions_it(
    api: Api, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # a port nothing listens on: connections refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    services = Services(get_settings())
    services.workflows = Workflows(services.settings.aws_region, AwsTimeouts(0.3, 0.3, 1))  # a client of its own
    request = TenantRequest.model_validate(tenant_body())

    with pytest.raises(TransientError) as refused:
        operations.request_tenant(services, request, idempotency_key=None, actor="fault-matrix")

    assert not any(word in refused.value.message for word in INTERNAL), refused.value.message
    monkeypatch.undo()
    [tenant] = [
        t
        for t in operations.list_tenants(get_services(), status="failed", limit=50, cursor=None)[0]
        if t.admin_email == str(request.admin_email)
    ]
    assert tenant.error is not None and "could not start provisioning" in tenant.error.message
    assert not any(word in tenant.error.message for word in INTERNAL), tenant.error.message
    retried = api.request("POST", f"/admin/tenants/{tenant.tenant_id}/retry", admin_token)
    assert retried.status_code == 202, retried.text
    assert operations.wait_until_settled(get_services(), tenant.tenant_id, 30).status == "active"
