"""Which tenant a call belongs to, and the config of its agent answering the dialed number.

The SIP dispatch rule puts `{"tenant_id": …}` in the job metadata; the dialed number is the
fallback, and picks which of the office's agents answers (its main agent when there is no number). Redis holds the hot copy of every config; Postgres the durable one, which refills Redis
when a key is missing.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from mla_core import tenants
from mla_core.agent_config import AgentConfig, main_agent_id
from mla_core.errors import TransientError
from mla_core.services import Services

logger = logging.getLogger(__name__)

_TENANT_ID = re.compile(r"^[a-z0-9]{10}$")


@dataclass(frozen=True)
class CallTenant:
    tenant_id: str
    config: AgentConfig


def _job(metadata: str) -> dict[str, object]:
    try:
        parsed = json.loads(metadata or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def tenant_id_from_job(metadata: str) -> str | None:
    tenant_id = _job(metadata).get("tenant_id")
    return tenant_id if isinstance(tenant_id, str) and _TENANT_ID.fullmatch(tenant_id) else None


def agent_id_from_job(metadata: str, tenant_id: str) -> str | None:
    """The agent a test call from the dashboard asked for, if it is one of this tenant's."""
    agent_id = _job(metadata).get("agent_id")
    return agent_id if isinstance(agent_id, str) and agent_id.startswith(f"{tenant_id}-") else None


def tenant_id_for_number(services: Services, dialed_number: str) -> str | None:
    try:
        tenant_id = services.agent_configs.tenant_for_number(dialed_number)
    except TransientError:
        tenant_id = None  # Redis is down: Postgres still knows
    if tenant_id:
        return tenant_id
    with services.db.transaction() as conn:
        return tenants.tenant_for_number(conn, dialed_number)


def load_agent_config(
    services: Services, tenant_id: str, dialed_number: str | None = None, *, agent_id: str | None = None
) -> AgentConfig | None:
    """The config of the tenant's agent `agent_id`, else of the one answering `dialed_number`, else
    of its main agent, from Redis; on a miss, from Postgres (active tenants only), written back."""
    try:
        if agent_id or not dialed_number:
            config = services.agent_configs.get(tenant_id, agent_id)
        else:
            config = services.agent_configs.for_number(tenant_id, dialed_number)
    except TransientError:
        config = None
    if config is not None:
        return config
    with services.db.transaction() as conn:
        row = conn.execute(
            "SELECT c.config FROM platform.agent_configs c JOIN platform.tenants t USING (tenant_id)"
            " WHERE c.tenant_id = %s AND t.status = 'active'"
            " ORDER BY c.agent_id = %s DESC, c.config -> 'phone_numbers' ? %s DESC, c.agent_id = %s DESC LIMIT 1",
            (tenant_id, agent_id or "", dialed_number or "", main_agent_id(tenant_id)),
        ).fetchone()
    if row is None:
        return None
    config = AgentConfig.model_validate(row["config"])
    try:
        services.agent_configs.put(config)
        logger.info(
            "agent config repopulated from postgres", extra={"tenant_id": tenant_id, "agent_id": config.agent_id}
        )
    except TransientError:
        logger.warning("agent config not repopulated: redis unavailable", extra={"tenant_id": tenant_id})
    return config


def resolve_call_tenant(services: Services, *, job_metadata: str, dialed_number: str | None) -> CallTenant | None:
    """The active tenant this call is for, with the config of its agent answering the dialed number;
    None when no active tenant owns it."""
    tenant_id = tenant_id_from_job(job_metadata)
    if tenant_id is None and dialed_number:
        tenant_id = tenant_id_for_number(services, dialed_number)
    if tenant_id is None:
        return None
    config = load_agent_config(services, tenant_id, dialed_number, agent_id=agent_id_from_job(job_metadata, tenant_id))
    return CallTenant(tenant_id, config) if config is not None else None


def active_agent_configs(services: Services, *, main_only: bool = True) -> list[AgentConfig]:
    """The durable configs of every active tenant's agents (what Redis is rebuilt from); by default
    only each office's main agent, which holds the office-wide settings (SMS templates)."""
    with services.db.transaction() as conn:
        rows = conn.execute(
            "SELECT c.config FROM platform.agent_configs c JOIN platform.tenants t USING (tenant_id)"
            " WHERE t.status = 'active' AND (NOT %s OR c.agent_id = t.tenant_id || '-main')"
            " ORDER BY t.tenant_id, c.agent_id",
            (main_only,),
        ).fetchall()
    return [AgentConfig.model_validate(row["config"]) for row in rows]
