"""The provisioning steps, each idempotent, each with the undo that compensation runs.

A step handler in `functions/provisioning` calls `run_step(name, tenant_id)`; the state machine
orders them, retries `TransientError`, and on any other failure calls `compensate`, which undoes
in reverse every step that started. Progress is recorded in `platform.provisioning_steps`, which
is what `GET /admin/tenants/{id}` shows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg import sql
from psycopg.types.json import Jsonb

from mla_core import db, mail
from mla_core.adapters import Services
from mla_core.agents.config import AgentConfig, build_default_config
from mla_core.agents.routing import dispatch_rule_spec, sip_trunk_id
from mla_core.core.errors import AppError, ConflictError, TransientError
from mla_core.core.names import dispatch_rule_name
from mla_core.db.migrate import latest_version, migrate_tenant
from mla_core.identity import invitations
from mla_core.live import events
from mla_core.provisioning import welcome
from mla_core.tenants import registry
from mla_core.tenants.registry import Tenant

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

Output = dict[str, Any]


@dataclass(frozen=True)
class ProvisioningStep:
    """One step of the provisioning workflow and the undo that compensation runs."""

    name: str
    do: Callable[[Services, Tenant], Output]
    undo: Callable[[Services, Tenant, Output], None]


# 1. Database schema ----------------------------------------------------------------------------


def create_schema(services: Services, tenant: Tenant) -> Output:
    migrate_tenant(services.db, tenant.schema_name)
    return {"schema": tenant.schema_name, "version": latest_version("tenant")}


def drop_schema(services: Services, tenant: Tenant, output: Output) -> None:
    # Only a tenant that never went live is compensated, so the schema holds no complaints.
    with services.db.transaction() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(tenant.schema_name)))


# 2. LiveKit room -------------------------------------------------------------------------------


def _room_metadata(tenant: Tenant) -> str:
    return json.dumps(
        {
            "tenant_id": tenant.tenant_id,
            "mla_name": tenant.mla_name,
            "constituency": tenant.constituency,
            "languages": tenant.languages,
        },
        ensure_ascii=False,
    )


def create_room(services: Services, tenant: Tenant) -> Output:
    room = asyncio.run(services.livekit.ensure_room(tenant.room_name, _room_metadata(tenant)))
    return {"room": room.name, "room_sid": room.sid}


def delete_room(services: Services, tenant: Tenant, output: Output) -> None:
    asyncio.run(services.livekit.delete_room(tenant.room_name))


# 3. SIP dispatch -------------------------------------------------------------------------------


def configure_sip_dispatch(services: Services, tenant: Tenant) -> Output:
    rule = asyncio.run(services.livekit.ensure_dispatch_rule(dispatch_rule_spec(services, tenant)))
    with services.db.transaction() as conn:
        registry.update_tenant(conn, tenant.tenant_id, sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
    return {"sip_dispatch_rule_id": rule.sip_dispatch_rule_id}


def remove_sip_dispatch(services: Services, tenant: Tenant, output: Output) -> None:
    asyncio.run(services.livekit.delete_dispatch_rule(dispatch_rule_name(tenant.tenant_id), sip_trunk_id(services)))
    with services.db.transaction() as conn:
        registry.update_tenant(conn, tenant.tenant_id, sip_dispatch_rule_id=None)


# 4. Agent config -------------------------------------------------------------------------------


def store_agent_config(services: Services, tenant: Tenant) -> Output:
    """Durable copy in Postgres first (kept if it exists), then the hot copy in Redis."""
    config = build_default_config(
        tenant_id=tenant.tenant_id,
        mla_name=tenant.mla_name,
        constituency=tenant.constituency,
        state=tenant.state,
        languages=tenant.languages,
        phone_numbers=tenant.phone_numbers,
        greeting=tenant.greeting,
        mla_name_local=tenant.mla_name_local,
        constituency_local=tenant.constituency_local,
        sender_id=services.settings.sms_sender_id,
        dlt_entity_id=services.settings.sms_dlt_entity_id,
    )
    with services.db.transaction() as conn:
        conn.execute(
            "INSERT INTO platform.agent_configs (agent_id, tenant_id, version, config) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (agent_id) DO NOTHING",
            (config.agent_id, tenant.tenant_id, config.version, Jsonb(config.model_dump(mode="json"))),
        )
        row = conn.execute(
            "SELECT config FROM platform.agent_configs WHERE agent_id = %s", (config.agent_id,)
        ).fetchone()
    assert row is not None  # inserted just above, or already there
    stored = AgentConfig.model_validate(row["config"])
    services.agent_configs.put(stored)
    return {"version": stored.version, "agent_id": stored.agent_id}


def delete_agent_config(services: Services, tenant: Tenant, output: Output) -> None:
    services.agent_configs.delete(tenant.tenant_id, tenant.phone_numbers)
    with services.db.transaction() as conn:
        conn.execute("DELETE FROM platform.agent_configs WHERE tenant_id = %s", (tenant.tenant_id,))


# 5. Dashboard login ----------------------------------------------------------------------------


def create_dashboard_login(services: Services, tenant: Tenant) -> Output:
    """The MLA admin as the office's member (role mla_admin), invited: the Supabase Auth login is made
    when they accept the welcome email's invitation (`identity.accounts.register`), with this `user_id`.
    Run again, it finds the same member."""
    with services.db.transaction() as conn:
        owner = registry.login_for_email(conn, tenant.admin_email)
        if owner is not None and owner["tenant_id"] != tenant.tenant_id:
            raise ConflictError(f"{tenant.admin_email} already has a login on another tenant")
        user_id = owner["user_id"] if owner is not None else str(uuid.uuid4())
        conn.execute(
            "INSERT INTO platform.users (user_id, tenant_id, email, role, full_name, login_created_at)"
            " VALUES (%s, %s, %s, 'mla_admin', %s, NULL) ON CONFLICT (user_id) DO NOTHING",
            (user_id, tenant.tenant_id, tenant.admin_email, tenant.admin_name),
        )
        registry.update_tenant(conn, tenant.tenant_id, admin_user_id=user_id)
    return {"user_id": user_id}


def delete_dashboard_login(services: Services, tenant: Tenant, output: Output) -> None:
    with services.db.transaction() as conn:
        rows = conn.execute(
            "SELECT user_id::text FROM platform.users WHERE tenant_id = %s", (tenant.tenant_id,)
        ).fetchall()
    user_ids = {row["user_id"] for row in rows} | ({output["user_id"]} if output.get("user_id") else set())
    if not user_ids:
        found = services.auth.find_user_by_email(tenant.admin_email)
        user_ids = {found} if found else set()
    for user_id in user_ids:
        services.auth.delete_user(user_id)
    with services.db.transaction() as conn:
        conn.execute("DELETE FROM platform.users WHERE tenant_id = %s", (tenant.tenant_id,))
        registry.update_tenant(conn, tenant.tenant_id, admin_user_id=None)


# 6. Welcome email ------------------------------------------------------------------------------


def send_welcome_email(services: Services, tenant: Tenant) -> Output:
    """The welcome email with a new invitation link for the MLA admin (issued and sent in one
    transaction: a link exists only once its email went; a retry's link voids the one before)."""
    with services.db.transaction() as conn:
        _, login = registry.step_output(conn, tenant.tenant_id, "create_dashboard_login")
        token = invitations.issue(conn, login["user_id"], "invite")
        email = welcome.compose(
            mla_name=tenant.mla_name,
            constituency=tenant.constituency,
            phone_numbers=tenant.phone_numbers,
            language=tenant.languages[0],
            link=invitations.invitation_link(services.settings.dashboard_url, token),
        )
        message_id = mail.send(services, tenant.admin_email, email)
    return {"message_id": message_id, "to": tenant.admin_email}


def _nothing_to_undo(services: Services, tenant: Tenant, output: Output) -> None:
    """An email cannot be unsent; the link in it stops working once the member is deleted."""


# 7. Activate -----------------------------------------------------------------------------------


def activate(services: Services, tenant: Tenant) -> Output:
    with services.db.transaction() as conn:
        registry.update_tenant(conn, tenant.tenant_id, status="active", error=None, activated_at=db.now(conn))
    return {"status": "active"}


STEPS: tuple[ProvisioningStep, ...] = (
    ProvisioningStep("create_schema", create_schema, drop_schema),
    ProvisioningStep("create_room", create_room, delete_room),
    ProvisioningStep("configure_sip_dispatch", configure_sip_dispatch, remove_sip_dispatch),
    ProvisioningStep("store_agent_config", store_agent_config, delete_agent_config),
    ProvisioningStep("create_dashboard_login", create_dashboard_login, delete_dashboard_login),
    ProvisioningStep("send_welcome_email", send_welcome_email, _nothing_to_undo),
    ProvisioningStep("activate", activate, _nothing_to_undo),
)
STEP_NAMES = [step.name for step in STEPS]
_BY_NAME = {step.name: step for step in STEPS}


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_step(services: Services, name: str, tenant_id: str) -> Output:
    """Run one step and record its progress; a step that already succeeded is not run again."""
    step = _BY_NAME[name]
    with services.db.transaction() as conn:
        tenant = registry.get_tenant(conn, tenant_id, with_steps=False)
        status, output = registry.step_output(conn, tenant_id, name)
        if status == "succeeded":
            return output
        registry.mark_step(conn, tenant_id, name, "running")
    logger.info("provisioning step started", extra={"tenant_id": tenant_id, "step": name})
    progressed(services, tenant_id)
    try:
        output = step.do(services, tenant)
    except Exception as exc:
        # A transient failure will be retried by the state machine: the step is still running.
        status = "running" if isinstance(exc, TransientError) else "failed"
        with services.db.transaction() as conn:
            registry.mark_step(conn, tenant_id, name, status, error=describe(exc))
        logger.warning("provisioning step failed", extra={"tenant_id": tenant_id, "step": name, "error": describe(exc)})
        progressed(services, tenant_id)
        raise
    with services.db.transaction() as conn:
        registry.mark_step(conn, tenant_id, name, "succeeded", error=None, output=output)
    logger.info("provisioning step succeeded", extra={"tenant_id": tenant_id, "step": name})
    progressed(services, tenant_id)
    return output


def progressed(services: Services, tenant_id: str) -> None:
    """Tell the super admins' open pages that the tenant's provisioning moved (the panel re-reads it)."""
    events.publish(services, events.ADMIN_FEED, "tenant.changed", tenant_id=tenant_id)


def error_message(error: dict[str, Any]) -> str:
    """The readable part of a Step Functions error (`Cause` holds the Lambda's error JSON)."""
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        return f"{parsed.get('errorType', error.get('Error'))}: {parsed.get('errorMessage', '')}"
    except (ValueError, AttributeError):
        return f"{error.get('Error', 'Error')}: {cause}".strip()


class CompensationIncomplete(TransientError):
    """An undo could not finish; `remaining` names the steps still to undo, newest first."""

    def __init__(self, message: str, remaining: list[str]) -> None:
        super().__init__(message)
        self.remaining = remaining


def compensate(
    services: Services,
    tenant_id: str,
    failed_step: str | None,
    error: dict[str, Any],
    *,
    message: str | None = None,
) -> Output:
    """Undo, newest first, every step that started, then mark the tenant failed.

    Each undo is idempotent, so a compensation that is itself retried (or re-run by the
    reconciler) converges. Raises `CompensationIncomplete` (a `TransientError`, so the state machine
    retries it) naming what is left when an undo could not finish. `message` replaces the one read
    from `error` (the reconciler keeps the first failure's words).
    """
    message = message or error_message(error)
    with services.db.transaction() as conn:
        tenant = registry.get_tenant(conn, tenant_id)
    if failed_step not in _BY_NAME:
        # Not named by the state machine: the first step left unfinished is the one that failed.
        failed_step = next((s.name for s in tenant.steps if s.status in ("failed", "running")), None)
    records = {record.name: record for record in tenant.steps}
    to_undo = [
        step
        for step in reversed(STEPS)
        if (record := records.get(step.name)) is not None
        and (record.status not in ("pending", "compensated") or step.name == failed_step)
    ]
    for index, step in enumerate(to_undo):
        record = records[step.name]
        with services.db.transaction() as conn:
            _, output = registry.step_output(conn, tenant_id, step.name)
        try:
            step.undo(services, tenant, output)
        except AppError as exc:
            remaining = [later.name for later in to_undo[index:]]
            raise CompensationIncomplete(f"compensation of {step.name} incomplete: {describe(exc)}", remaining) from exc
        failed_here = step.name == failed_step
        with services.db.transaction() as conn:
            registry.mark_step(
                conn,
                tenant_id,
                step.name,
                "failed" if failed_here else "compensated",
                error=(record.error or message) if failed_here else None,
            )
    undone = [step.name for step in to_undo]
    with services.db.transaction() as conn:
        registry.update_tenant(conn, tenant_id, status="failed", error={"step": failed_step, "message": message})
    progressed(services, tenant_id)
    logger.warning(
        "provisioning compensated",
        extra={"tenant_id": tenant_id, "failed_step": failed_step, "undone": undone, "error": message},
    )
    return {"tenant_id": tenant_id, "status": "failed", "failed_step": failed_step, "undone": undone}
