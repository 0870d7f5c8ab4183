"""The tenant registry: who the tenants are, their numbers, and how far provisioning got.

Repository functions over `platform.*`; each takes a connection inside the caller's transaction.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from mla_core.core.errors import ConflictError, NotFoundError
from mla_core.db import Conn

TenantStatus = Literal["provisioning", "active", "failed", "deleting", "deleted"]
StepStatus = Literal["pending", "running", "succeeded", "failed", "compensated"]

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_tenant_id() -> str:
    """Ten lowercase letters and digits: safe in schema, room and Redis key names."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


class StepProgress(BaseModel):
    """How far one provisioning step got (a row of `platform.provisioning_steps`)."""

    name: str
    status: StepStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


class TenantFailure(BaseModel):
    """Why the tenant is `failed` (or its deprovisioning stalled): the step and what went wrong."""

    step: str | None
    message: str
    # Steps whose undo could not finish yet (newest first); the reconciler finishes them.
    cleanup_pending: list[str] = []


class Tenant(BaseModel):
    """A tenant as the registry has it, with its provisioning steps when asked for."""

    tenant_id: str
    status: TenantStatus
    mla_name: str
    constituency: str
    state: str
    languages: list[str]
    phone_numbers: list[str]
    admin_email: str
    admin_name: str | None = None
    greeting: str | None = None
    mla_name_local: dict[str, str] = {}  # by language, in its script
    constituency_local: dict[str, str] = {}
    schema_name: str
    room_name: str
    sip_dispatch_rule_id: str | None = None
    admin_user_id: str | None = None
    attempt: int
    error: TenantFailure | None = None
    archived_schema: str | None = None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = None
    deleted_at: datetime | None = None
    steps: list[StepProgress] = []


_SELECT_TENANT = """
    SELECT t.*, t.admin_user_id::text AS admin_user_id,
           COALESCE(ARRAY(SELECT n.e164 FROM platform.tenant_phone_numbers n
                          WHERE n.tenant_id = t.tenant_id ORDER BY n.position), '{}') AS phone_numbers
    FROM platform.tenants t
"""


def insert_tenant(conn: Conn, tenant: dict[str, Any], phone_numbers: list[str]) -> None:
    """Register a new tenant and claim its numbers; a number owned by another tenant is a conflict."""
    try:
        with conn.transaction():
            _insert_tenant_row(conn, tenant)
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError(
            f"{tenant['admin_email']} is already the admin of another tenant",
            details=[{"field": "admin_email", "reason": "already_taken", "value": tenant["admin_email"]}],
        ) from exc
    claim_numbers(conn, tenant["tenant_id"], phone_numbers)


def _insert_tenant_row(conn: Conn, tenant: dict[str, Any]) -> None:
    conn.execute(
        """INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages,
                admin_email, admin_name, greeting, mla_name_local, constituency_local, schema_name, room_name)
           VALUES (%(tenant_id)s, 'provisioning', %(mla_name)s, %(constituency)s, %(state)s, %(languages)s,
                %(admin_email)s, %(admin_name)s, %(greeting)s, %(mla_name_local)s, %(constituency_local)s,
                %(schema_name)s, %(room_name)s)""",
        {
            **tenant,
            "mla_name_local": Jsonb(tenant.get("mla_name_local") or {}),
            "constituency_local": Jsonb(tenant.get("constituency_local") or {}),
        },
    )


def claim_numbers(conn: Conn, tenant_id: str, phone_numbers: list[str]) -> None:
    for position, number in enumerate(phone_numbers):
        try:
            with conn.transaction():  # a savepoint, so the conflict can be reported precisely
                conn.execute(
                    "INSERT INTO platform.tenant_phone_numbers (e164, tenant_id, position) VALUES (%s, %s, %s)",
                    (number, tenant_id, position),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise number_taken(number, position) from exc


def number_taken(number: str, position: int) -> ConflictError:
    return ConflictError(
        f"phone number {number} already belongs to another tenant",
        details=[{"field": f"phone_numbers.{position}", "reason": "already_taken", "value": number}],
    )


def login_for_email(conn: Conn, email: str) -> dict[str, Any] | None:
    """The dashboard login registered for `email` (any tenant, or a super admin's), if there is one."""
    return conn.execute(
        "SELECT user_id::text AS user_id, tenant_id FROM platform.users WHERE lower(email) = lower(%s)", (email,)
    ).fetchone()


def release_numbers(conn: Conn, tenant_id: str) -> None:
    conn.execute("DELETE FROM platform.tenant_phone_numbers WHERE tenant_id = %s", (tenant_id,))


def get_tenant(conn: Conn, tenant_id: str, *, with_steps: bool = True) -> Tenant:
    row = conn.execute(_SELECT_TENANT + " WHERE t.tenant_id = %s", (tenant_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"tenant {tenant_id} not found")
    tenant = Tenant.model_validate(row)
    if with_steps:
        tenant.steps = list_steps(conn, tenant_id)
    return tenant


def lock_tenant(conn: Conn, tenant_id: str) -> Tenant:
    """The tenant, row-locked until the end of the transaction (for status transitions)."""
    lock_row(conn, tenant_id)
    return get_tenant(conn, tenant_id)


def lock_row(conn: Conn, tenant_id: str) -> None:
    """Lock the tenant's row until the end of the transaction: changes to it wait their turn."""
    row = conn.execute("SELECT tenant_id FROM platform.tenants WHERE tenant_id = %s FOR UPDATE", (tenant_id,))
    if row.fetchone() is None:
        raise NotFoundError(f"tenant {tenant_id} not found")


def list_tenants(
    conn: Conn, *, status: str | None, limit: int, after: tuple[datetime, str] | None, q: str | None = None
) -> list[Tenant]:
    """Newest first, keyset-paginated on (created_at, tenant_id); `q` matches the id, MLA,
    constituency, state or admin email (case-insensitive substring)."""
    clauses: list[str] = []
    params: list[Any] = []
    if status:
        clauses.append("t.status = %s")
        params.append(status)
    if q:
        clauses.append(
            "concat_ws(' ', t.tenant_id, t.mla_name, t.constituency, t.state, t.admin_email) ILIKE %s ESCAPE '\\'"
        )
        params.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if after:
        clauses.append("(t.created_at, t.tenant_id) < (%s, %s)")
        params.extend(after)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(map(sql.SQL, clauses)) if clauses else sql.SQL("")
    query = sql.SQL(_SELECT_TENANT) + where + sql.SQL(" ORDER BY t.created_at DESC, t.tenant_id DESC LIMIT %s")
    rows = conn.execute(query, (*params, limit)).fetchall()
    return [Tenant.model_validate(row) for row in rows]


def update_tenant(conn: Conn, tenant_id: str, **fields: Any) -> None:
    """Set the given columns and bump updated_at."""
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in fields
    )
    values = {name: Jsonb(v) if isinstance(v, dict) else v for name, v in fields.items()}
    conn.execute(
        sql.SQL("UPDATE platform.tenants SET {}, updated_at = now() WHERE tenant_id = %(tenant_id)s").format(
            assignments
        ),
        {**values, "tenant_id": tenant_id},
    )


def tenant_for_number(conn: Conn, e164: str) -> str | None:
    row = conn.execute(
        "SELECT n.tenant_id FROM platform.tenant_phone_numbers n JOIN platform.tenants t USING (tenant_id)"
        " WHERE n.e164 = %s AND t.status = 'active'",
        (e164,),
    ).fetchone()
    return row["tenant_id"] if row else None


# Provisioning progress --------------------------------------------------------------------------


def reset_steps(conn: Conn, tenant_id: str, names: list[str], attempt: int) -> None:
    conn.execute("DELETE FROM platform.provisioning_steps WHERE tenant_id = %s", (tenant_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO platform.provisioning_steps (tenant_id, name, position, status, attempt)"
            " VALUES (%s, %s, %s, 'pending', %s)",
            [(tenant_id, name, position, attempt) for position, name in enumerate(names)],
        )


def list_steps(conn: Conn, tenant_id: str) -> list[StepProgress]:
    rows = conn.execute(
        "SELECT name, status, started_at, finished_at, error FROM platform.provisioning_steps"
        " WHERE tenant_id = %s ORDER BY position",
        (tenant_id,),
    ).fetchall()
    return [StepProgress.model_validate(row) for row in rows]


def step_output(conn: Conn, tenant_id: str, name: str) -> tuple[StepStatus, dict[str, Any]]:
    row = conn.execute(
        "SELECT status, output FROM platform.provisioning_steps WHERE tenant_id = %s AND name = %s",
        (tenant_id, name),
    ).fetchone()
    return (row["status"], row["output"]) if row else ("pending", {})


def mark_step(
    conn: Conn,
    tenant_id: str,
    name: str,
    status: StepStatus,
    *,
    error: str | None = None,
    output: dict[str, Any] | None = None,
) -> None:
    running = status == "running"
    conn.execute(
        "UPDATE platform.provisioning_steps SET status = %s, error = %s, output = COALESCE(%s, output),"
        " started_at = CASE WHEN %s THEN now() ELSE started_at END,"
        " finished_at = CASE WHEN %s THEN NULL ELSE now() END"
        " WHERE tenant_id = %s AND name = %s",
        (status, error, Jsonb(output) if output is not None else None, running, running, tenant_id, name),
    )
