"""Taking a tenant down: everything provisioning created goes, except the complaint data.

The schema is renamed to `archived_tenant_{id}` (never dropped), logins are disabled (not
deleted, so the audit trail keeps its actors), and the numbers are released for reuse.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg import sql

from mla_core import db
from mla_core.adapters import Services
from mla_core.adapters.supabase_auth import SupabaseAuth
from mla_core.core.names import archived_schema_name
from mla_core.live import connections
from mla_core.provisioning.workflow import delete_room, error_message, progressed, remove_sip_dispatch
from mla_core.tenants import registry

logger = logging.getLogger(__name__)


def disable_logins(services: Services, tenant_id: str, auth: SupabaseAuth) -> int:
    with services.db.transaction() as conn:
        # An invited member who never accepted has no Supabase Auth login to ban (their link stops
        # working with the office).
        rows = conn.execute(
            "SELECT user_id::text FROM platform.users WHERE tenant_id = %s AND login_created_at IS NOT NULL",
            (tenant_id,),
        ).fetchall()
    for row in rows:
        auth.set_disabled(row["user_id"], True)
    with services.db.transaction() as conn:
        conn.execute("UPDATE platform.users SET disabled = true, updated_at = now() WHERE tenant_id = %s", (tenant_id,))
    return len(rows)


def archive_schema(services: Services, tenant: registry.Tenant) -> str:
    archived = archived_schema_name(tenant.tenant_id)
    with services.db.transaction() as conn:
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (tenant.schema_name,)).fetchone()
        if exists:
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(tenant.schema_name), sql.Identifier(archived)
                )
            )
    return archived


def deprovision(services: Services, tenant_id: str) -> dict[str, Any]:
    """Run every removal (each idempotent, so a retried run converges) and mark the tenant deleted."""
    with services.db.transaction() as conn:
        tenant = registry.get_tenant(conn, tenant_id, with_steps=False)
    remove_sip_dispatch(services, tenant, {})
    delete_room(services, tenant, {})
    delete_agent_config_keys_only(services, tenant)
    disabled = disable_logins(services, tenant_id, services.auth)
    connections.close_office(services, tenant_id)
    archived = archive_schema(services, tenant)
    with services.db.transaction() as conn:
        registry.release_numbers(conn, tenant_id)
        registry.update_tenant(
            conn,
            tenant_id,
            status="deleted",
            archived_schema=archived,
            error=None,
            deleted_at=db.now(conn),
        )
    logger.info("tenant deprovisioned", extra={"tenant_id": tenant_id, "logins_disabled": disabled})
    progressed(services, tenant_id)
    return {"tenant_id": tenant_id, "status": "deleted", "archived_schema": archived}


def delete_agent_config_keys_only(services: Services, tenant: registry.Tenant) -> None:
    """Redis forgets the tenant; Postgres keeps the configs with the archived data."""
    with services.db.transaction() as conn:
        rows = conn.execute("SELECT agent_id FROM platform.agent_configs WHERE tenant_id = %s", (tenant.tenant_id,))
        agent_ids = [row["agent_id"] for row in rows]
    services.agent_configs.delete(tenant.tenant_id, tenant.phone_numbers, agent_ids)


def record_failure(services: Services, tenant_id: str, error: dict[str, Any]) -> dict[str, Any]:
    message = error_message(error)
    with services.db.transaction() as conn:
        registry.update_tenant(conn, tenant_id, error={"step": "deprovision", "message": message})
    logger.warning("deprovisioning failed", extra={"tenant_id": tenant_id, "error": message})
    progressed(services, tenant_id)
    return {"tenant_id": tenant_id, "status": "deleting", "error": message}
