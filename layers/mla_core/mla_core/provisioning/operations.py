"""What the admin API does with tenants: request, inspect, retry, and take down.

Provisioning itself runs in Step Functions; these functions validate, record, and start the
executions, and answer for a tenant from the registry.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from mla_core.adapters import Services
from mla_core.core import cursors
from mla_core.core.errors import ConflictError, InvalidInputError, TransientError
from mla_core.core.names import room_name, schema_name
from mla_core.db import Conn
from mla_core.provisioning import reconcile
from mla_core.provisioning.workflow import STEP_NAMES
from mla_core.tenants import registry
from mla_core.tenants.registry import Tenant
from mla_core.tenants.request import TenantRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """A tenant request's answer; `replayed` when an Idempotency-Key returned the first result."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def _request_hash(request: TenantRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def _check_admin_email_free(conn: Conn, email: str) -> None:
    taken = conn.execute(
        "SELECT 1 FROM platform.users WHERE lower(email) = lower(%s)"
        " UNION ALL SELECT 1 FROM platform.tenants WHERE lower(admin_email) = lower(%s)"
        " AND status IN ('provisioning', 'active', 'failed', 'deleting') LIMIT 1",
        (email, email),
    ).fetchone()
    if taken:
        raise ConflictError(
            f"{email} already has a dashboard login",
            details=[{"field": "admin_email", "reason": "already_taken", "value": email}],
        )


def request_tenant(services: Services, request: TenantRequest, *, idempotency_key: str | None, actor: str) -> Accepted:
    """Register the tenant, claim its numbers, and start provisioning.

    The registry row, the number claims and the idempotency record commit together, so two
    racing requests for one number (or one key) end with exactly one tenant.
    """
    request_hash = _request_hash(request)
    tenant_id = registry.new_tenant_id()
    with services.db.transaction() as conn:
        if idempotency_key:
            # Serialise requests that share a key: the second waits, then replays the first.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{actor}\n{idempotency_key}",))
            replay = _replay(conn, actor, idempotency_key, request_hash)
            if replay:
                return replay
        _check_admin_email_free(conn, str(request.admin_email))
        tenant = register(conn, tenant_id, request)
        accepted = Accepted(202, tenant.model_dump(mode="json"))
        if idempotency_key:
            conn.execute(
                "INSERT INTO platform.idempotency_keys (scope, key, request_hash, status_code, response)"
                " VALUES (%s, %s, %s, %s, %s)",
                (actor, idempotency_key, request_hash, accepted.status_code, Jsonb(accepted.body)),
            )
    logger.info("tenant requested", extra={"tenant_id": tenant_id, "actor": actor})
    _start_provisioning(services, tenant)
    return accepted


def register(conn: Conn, tenant_id: str, request: TenantRequest) -> Tenant:
    """The tenant in the registry as `provisioning`, its numbers claimed, its steps pending."""
    registry.insert_tenant(
        conn,
        {
            **request.model_dump(exclude={"phone_numbers"}),
            "admin_email": str(request.admin_email),
            "tenant_id": tenant_id,
            "schema_name": schema_name(tenant_id),
            "room_name": room_name(tenant_id),
        },
        request.phone_numbers,
    )
    registry.reset_steps(conn, tenant_id, STEP_NAMES, attempt=1)
    return registry.get_tenant(conn, tenant_id)


def _replay(conn: Conn, actor: str, key: str, request_hash: str) -> Accepted | None:
    row = conn.execute(
        "SELECT request_hash, status_code, response FROM platform.idempotency_keys WHERE scope = %s AND key = %s",
        (actor, key),
    ).fetchone()
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        raise InvalidInputError(
            "Idempotency-Key was already used with a different request body",
            details=[{"field": "Idempotency-Key", "reason": "reused_with_different_body"}],
        )
    return Accepted(row["status_code"], row["response"], replayed=True)


def tenant_requested_under(services: Services, actor: str, idempotency_key: str) -> str | None:
    """The tenant that `actor`'s request under `idempotency_key` made, if one did: a form sent again
    (Back then Create, whatever was changed since) goes to it instead of asking for another."""
    with services.db.transaction() as conn:
        row = conn.execute(
            "SELECT response->>'tenant_id' AS tenant_id FROM platform.idempotency_keys WHERE scope = %s AND key = %s",
            (actor, idempotency_key),
        ).fetchone()
    return row["tenant_id"] if row else None


def execution_name(tenant_id: str, attempt: int, kind: str = "provision") -> str:
    """Unique per attempt: Standard workflow names cannot be reused for 90 days."""
    return f"{kind}-{tenant_id}-{attempt}"


def _start_provisioning(services: Services, tenant: Tenant) -> None:
    arn = services.settings.provisioning_state_machine_arn
    try:
        execution_arn = services.workflows.start(
            arn, execution_name(tenant.tenant_id, tenant.attempt), {"tenant_id": tenant.tenant_id}
        )
    except Exception as exc:
        with services.db.transaction() as conn:
            registry.update_tenant(
                conn,
                tenant.tenant_id,
                status="failed",
                error={"step": None, "message": f"could not start provisioning: {exc}"},
            )
        raise TransientError("provisioning could not be started; retry the tenant") from exc
    with services.db.transaction() as conn:
        registry.update_tenant(conn, tenant.tenant_id, execution_arn=execution_arn)


def get_tenant(services: Services, tenant_id: str) -> Tenant:
    with services.db.transaction() as conn:
        return registry.get_tenant(conn, tenant_id)


def list_tenants(
    services: Services, *, status: str | None, limit: int, cursor: str | None, q: str | None = None
) -> tuple[list[Tenant], str | None]:
    """A page of tenants, newest first, and the cursor to the next (None on the last)."""
    after = cursors.decode(cursor, "newest", datetime.fromisoformat, str) if cursor else None
    with services.db.transaction() as conn:
        page = registry.list_tenants(conn, status=status, limit=limit + 1, after=after, q=q)
    return cursors.paginate(page, limit, lambda last: cursors.encode("newest", last.created_at, last.tenant_id))


def retry_tenant(services: Services, tenant_id: str) -> Tenant:
    """Start a new provisioning attempt for a failed tenant (the compensated steps run again).
    A tenant whose cleanup is still pending is cleaned up first; if that cannot finish yet, 503."""
    tenant = get_tenant(services, tenant_id)
    if tenant.status == "failed" and tenant.error and tenant.error.cleanup_pending:
        reconcile.finish_cleanup(services, tenant)  # what is still left is refused just below
    with services.db.transaction() as conn:
        tenant = registry.lock_tenant(conn, tenant_id)
        if tenant.status != "failed":
            raise ConflictError(f"only a failed tenant can be retried; this one is {tenant.status}")
        if tenant.error and tenant.error.cleanup_pending:
            raise TransientError(
                f"the cleanup of the last attempt is still pending ({', '.join(tenant.error.cleanup_pending)});"
                " retry in a few minutes"
            )
        attempt = tenant.attempt + 1
        registry.update_tenant(conn, tenant_id, status="provisioning", attempt=attempt, error=None)
        registry.reset_steps(conn, tenant_id, STEP_NAMES, attempt=attempt)
        tenant = registry.get_tenant(conn, tenant_id)
    _start_provisioning(services, tenant)
    return get_tenant(services, tenant_id)


def delete_tenant(services: Services, tenant_id: str) -> Tenant:
    """Start deprovisioning; a tenant already being deleted is started again (it converges)."""
    with services.db.transaction() as conn:
        tenant = registry.lock_tenant(conn, tenant_id)
        if tenant.status == "provisioning":
            raise ConflictError("the tenant is still provisioning; delete it once it is active or failed")
        if tenant.status == "deleted":
            return tenant
        attempt = tenant.attempt + 1
        registry.update_tenant(conn, tenant_id, status="deleting", attempt=attempt)
    try:
        services.workflows.start(
            services.settings.deprovisioning_state_machine_arn,
            execution_name(tenant_id, attempt, "deprovision"),
            {"tenant_id": tenant_id},
        )
    except Exception as exc:
        raise TransientError("deprovisioning could not be started; send DELETE again") from exc
    return get_tenant(services, tenant_id)


def wait_until_settled(services: Services, tenant_id: str, timeout_s: float) -> Tenant:
    """Poll the registry until provisioning ends (active or failed) or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        tenant = get_tenant(services, tenant_id)
        if tenant.status != "provisioning" or time.monotonic() >= deadline:
            return tenant
        time.sleep(0.1)
