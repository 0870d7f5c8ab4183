"""Which tenant a call belongs to, and the config of its agent answering the dialed number.

The SIP dispatch rule puts `{"tenant_id": …}` in the job metadata; the dialed number is the
fallback, and picks which of the office's agents answers (its main agent when there is no number).
Redis holds the hot copy of every config; Postgres the durable one, which refills Redis when a key
is missing. Redis is a cache, never a single point of failure: while it is unavailable every call
is answered from Postgres, and each config served so is written to Redis again once Redis answers
(a change made meanwhile could not reach it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mla_core.adapters import Services
from mla_core.agents.config import AgentConfig
from mla_core.core.errors import ConfigurationError, TransientError
from mla_core.core.names import TENANT_ID, call_room_prefix, dispatch_rule_name, main_agent_id
from mla_core.tenants import registry
from mla_core.tenants.registry import Tenant

if TYPE_CHECKING:
    from mla_core.adapters.livekit import DispatchRuleSpec

logger = logging.getLogger(__name__)

# The configs (tenant, agent asked for, number dialed) this process served from Postgres while Redis
# was unavailable: their Redis copy is rewritten from Postgres on the first read after Redis answers.
_unsynced: set[tuple[str, str | None, str | None]] = set()


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
    return tenant_id if isinstance(tenant_id, str) and TENANT_ID.fullmatch(tenant_id) else None


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
        return registry.tenant_for_number(conn, dialed_number)


def load_agent_config(
    services: Services, tenant_id: str, dialed_number: str | None = None, *, agent_id: str | None = None
) -> AgentConfig | None:
    """The config of the tenant's agent `agent_id`, else of the one answering `dialed_number`, else
    of its main agent, from Redis; on a miss, from Postgres (active tenants only), written back."""
    asked = (tenant_id, agent_id, dialed_number)
    try:
        if agent_id or not dialed_number:
            cached = services.agent_configs.get(tenant_id, agent_id)
        else:
            cached = services.agent_configs.for_number(tenant_id, dialed_number)
    except TransientError:
        _unsynced.add(asked)
        cached = None
    if cached is not None and asked not in _unsynced:
        return AgentConfig.model_validate_json(cached)
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
        _unsynced.discard(asked)
        logger.info(
            "agent config repopulated from postgres", extra={"tenant_id": tenant_id, "agent_id": config.agent_id}
        )
    except TransientError:
        _unsynced.add(asked)
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


# The SIP dispatch rule: the office's numbers, brought to its agents --------------------------------


def sip_trunk_id(services: Services) -> str:
    """The shared inbound trunk every office's numbers arrive on."""
    trunk_id = services.settings.livekit_sip_trunk_id
    if not trunk_id:
        raise ConfigurationError("LIVEKIT_SIP_TRUNK_ID is not set: the shared inbound trunk is unknown")
    return trunk_id


def dispatch_rule_spec(services: Services, tenant: Tenant) -> DispatchRuleSpec:
    """The office's SIP dispatch rule: every number it answers, a room per call, the agent dispatched
    with the tenant's id as job metadata (which `resolve_call_tenant` reads back)."""
    from mla_core.adapters.livekit import DispatchRuleSpec  # the LiveKit SDK loads with the first rule

    return DispatchRuleSpec(
        name=dispatch_rule_name(tenant.tenant_id),
        trunk_id=sip_trunk_id(services),
        numbers=tenant.phone_numbers,
        room_prefix=call_room_prefix(tenant.tenant_id),
        agent_name=services.settings.livekit_agent_name,
        job_metadata=json.dumps({"tenant_id": tenant.tenant_id}),
        attributes={"tenant_id": tenant.tenant_id},
    )
