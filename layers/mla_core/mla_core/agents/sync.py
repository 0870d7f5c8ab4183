"""An office's routes as Postgres has them, brought to LiveKit and Redis, and drift repaired.

Postgres is the source of truth for the numbers an office answers (`platform.tenant_phone_numbers`)
and for which of its agents answers each (`platform.agent_configs`). LiveKit's SIP dispatch rule
and Redis' keys (the configs, `agent:phone:*`, the office's routes hash) follow it:

1. An agent change commits in Postgres together with a pending marker (`mark_pending`, a row of
   `platform.agent_routes_pending` naming the numbers and agents the office let go of).
2. After the commit, `sync_routes` compares LiveKit and Redis with Postgres, changes what differs
   and deletes the marker. While the marker is there, the agent settings page and the API's
   `AgentView.routes_pending_since` say the change is not live on the phone line yet.
3. When LiveKit or Redis fails in step 2, the marker stays; the reconciler calls `sync_routes`
   for every active tenant every few minutes, which finishes the job and repairs drift of any
   other origin (a rule left with a number Postgres calls free is what stops another tenant
   being provisioned with that number).

Nothing is sent to LiveKit or Redis before Postgres commits, so a request that fails before its
commit changes nothing anywhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mla_core.adapters import Services
from mla_core.agents.config import AgentConfig
from mla_core.agents.routing import dispatch_rule_spec, sip_trunk_id
from mla_core.core.errors import AppError
from mla_core.core.names import dispatch_rule_name, main_agent_id
from mla_core.core.privacy import mask_phone
from mla_core.db import Conn
from mla_core.tenants import registry
from mla_core.tenants.registry import Tenant

logger = logging.getLogger(__name__)

RouteTarget = Literal["livekit", "redis"]
RouteAction = Literal[
    "create_rule",  # the office had no dispatch rule
    "update_rule",  # its rule's numbers were not the office's
    "write_config",  # an agent's cached config was missing or not Postgres' copy
    "route_number",  # a number of the office did not lead to the agent answering it
    "forget_agent",  # a removed agent's config was still cached
    "release_number",  # a number the office no longer has still led to it
]


@dataclass(frozen=True)
class RouteChange:
    """One difference between LiveKit or Redis and Postgres, which `sync_routes` repaired.

    `subject` is the rule's name (livekit), an agent id (write_config, forget_agent) or a number
    (route_number, release_number); `log_fields` masks numbers.
    """

    tenant_id: str
    target: RouteTarget
    action: RouteAction
    subject: str

    def log_fields(self) -> dict[str, str]:
        is_number = self.action in ("route_number", "release_number")
        subject = mask_phone(self.subject) if is_number else self.subject
        return {"tenant_id": self.tenant_id, "target": self.target, "action": self.action, "subject": subject or ""}


# Postgres: the office's agents and its pending marker ------------------------------------------


def office_agents(conn: Conn, tenant_id: str) -> list[AgentConfig]:
    """The office's agents as Postgres has them, the main one first."""
    rows = conn.execute(
        "SELECT config FROM platform.agent_configs WHERE tenant_id = %s ORDER BY agent_id <> %s, agent_id",
        (tenant_id, main_agent_id(tenant_id)),
    )
    return [AgentConfig.model_validate(row["config"]) for row in rows]


@dataclass(frozen=True)
class Pending:
    """An office's committed change not yet confirmed in LiveKit and Redis."""

    since: datetime
    released_numbers: list[str]
    removed_agents: list[str]


def mark_pending(
    conn: Conn, tenant_id: str, *, released_numbers: Collection[str] = (), removed_agents: Collection[str] = ()
) -> datetime:
    """Record, in the caller's transaction, that the office's routes must follow a change; returns
    since when a change is pending (the first one's time, when several are)."""
    row = conn.execute(
        "INSERT INTO platform.agent_routes_pending AS p (tenant_id, released_numbers, removed_agents)"
        " VALUES (%s, %s, %s) ON CONFLICT (tenant_id) DO UPDATE SET"
        " released_numbers = ARRAY(SELECT DISTINCT unnest(p.released_numbers || excluded.released_numbers)),"
        " removed_agents = ARRAY(SELECT DISTINCT unnest(p.removed_agents || excluded.removed_agents))"
        " RETURNING since",
        (tenant_id, list(released_numbers), list(removed_agents)),
    ).fetchone()
    assert row is not None  # INSERT … RETURNING always returns the row
    return row["since"]  # type: ignore[no-any-return]


def pending(conn: Conn, tenant_id: str) -> Pending | None:
    row = conn.execute(
        "SELECT since, released_numbers, removed_agents FROM platform.agent_routes_pending WHERE tenant_id = %s",
        (tenant_id,),
    ).fetchone()
    return Pending(**row) if row else None


# Comparing and repairing ------------------------------------------------------------------------


def plan_rule(tenant_id: str, numbers: Sequence[str], rule_numbers: Sequence[str] | None) -> list[RouteChange]:
    """What to change so that the office's dispatch rule brings it `numbers`: `rule_numbers` is the
    numbers its rule has (None: it has no rule). Pure."""
    if rule_numbers is None:
        return [RouteChange(tenant_id, "livekit", "create_rule", dispatch_rule_name(tenant_id))]
    if sorted(rule_numbers) != sorted(numbers):
        return [RouteChange(tenant_id, "livekit", "update_rule", dispatch_rule_name(tenant_id))]
    return []


@dataclass(frozen=True)
class Cached:
    """What Redis holds for one office."""

    configs: dict[str, str | None]  # agent id -> its cached config (Postgres' agents and removed ones)
    owners: dict[str, str | None]  # number -> the tenant `agent:phone:{number}` names
    routes: dict[str, AgentConfig | None]  # number -> the config the office's route for it leads to


def _cached(text: str | None) -> AgentConfig | None:
    if text is None:
        return None
    try:
        return AgentConfig.model_validate_json(text)
    except ValueError:  # not a config we can read: as good as missing
        return None


def plan_cache(
    tenant_id: str, agents: Sequence[AgentConfig], removed: Collection[str], seen: Cached
) -> list[RouteChange]:
    """What to change so that Redis equals Postgres: the office's `agents` (each answering its
    numbers), and none of the agents `removed` nor any other number. Pure; `seen` is what Redis holds."""
    changes: list[RouteChange] = []
    for agent in agents:
        if _cached(seen.configs.get(agent.agent_id)) != agent:
            changes.append(RouteChange(tenant_id, "redis", "write_config", agent.agent_id))
        for number in agent.phone_numbers:
            route = seen.routes.get(number)
            if seen.owners.get(number) != tenant_id or route is None or route.agent_id != agent.agent_id:
                changes.append(RouteChange(tenant_id, "redis", "route_number", number))
    current = {agent.agent_id for agent in agents}
    for agent_id in sorted(set(removed) - current):
        if seen.configs.get(agent_id) is not None:
            changes.append(RouteChange(tenant_id, "redis", "forget_agent", agent_id))
    numbers = {number for agent in agents for number in agent.phone_numbers}
    for number in sorted(set(seen.owners) - numbers):
        if seen.owners[number] == tenant_id or seen.routes.get(number) is not None:
            changes.append(RouteChange(tenant_id, "redis", "release_number", number))
    return changes


def _sync_rule(
    services: Services, conn: Conn, tenant: Tenant, known_rules: Mapping[str, Any] | None
) -> tuple[list[RouteChange], list[str]]:
    """The office's dispatch rule brought to its numbers: the changes, and the numbers it had."""
    name = dispatch_rule_name(tenant.tenant_id)
    if known_rules is not None:
        rule = known_rules.get(name)
    else:
        rule = asyncio.run(services.livekit.find_dispatch_rule(name, sip_trunk_id(services)))
    had = list(rule.numbers) if rule is not None else None
    changes = plan_rule(tenant.tenant_id, tenant.phone_numbers, had)
    if changes:
        rule = asyncio.run(services.livekit.ensure_dispatch_rule(dispatch_rule_spec(services, tenant)))
    if rule is not None and rule.sip_dispatch_rule_id != tenant.sip_dispatch_rule_id:
        registry.update_tenant(conn, tenant.tenant_id, sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
    return changes, had or []


def _observe_cache(
    services: Services, tenant_id: str, agents: Sequence[AgentConfig], removed: Sequence[str], numbers: set[str]
) -> Cached:
    """What Redis holds of the office's agents (and the `removed` ones), and of `numbers` and every
    number a cached config names."""
    store = services.agent_configs
    agent_ids = dict.fromkeys([*(agent.agent_id for agent in agents), *removed])
    configs = {agent_id: store.get(tenant_id, agent_id) for agent_id in agent_ids}
    for text in configs.values():
        cached = _cached(text)
        numbers |= set(cached.phone_numbers if cached else [])
    return Cached(
        configs=configs,
        owners={number: store.tenant_for_number(number) for number in sorted(numbers)},
        routes={number: _cached(store.for_number(tenant_id, number)) for number in sorted(numbers)},
    )


def _apply_cache(
    services: Services, tenant_id: str, agents: Sequence[AgentConfig], changes: Sequence[RouteChange], seen: Cached
) -> None:
    """Make the planned Redis changes: what is forgotten first, then the configs written."""
    store = services.agent_configs
    answering = {number: agent.agent_id for agent in agents for number in agent.phone_numbers}
    rewrite = {change.subject for change in changes if change.action == "write_config"}
    rewrite |= {answering[change.subject] for change in changes if change.action == "route_number"}
    released: list[str] = []  # numbers whose key names this office: the main agent's `put` drops key and route
    forgotten: set[str] = set()
    for change in changes:
        route = seen.routes.get(change.subject)
        if change.action == "forget_agent":
            gone = _cached(seen.configs[change.subject])
            if gone is not None:  # its config, its routes, and its numbers' keys that still name this office
                store.delete_agent(gone)
                forgotten |= set(gone.phone_numbers)
        elif change.action == "release_number" and seen.owners.get(change.subject) == tenant_id:
            released.append(change.subject)
        elif change.action == "release_number" and route is not None:
            # Another tenant's number now: drop only this office's route to it (and the config it led to).
            store.delete_agent(route.model_copy(update={"phone_numbers": [change.subject]}))
            forgotten.add(change.subject)
            rewrite.add(route.agent_id)
    rewrite |= {answering[number] for number in forgotten if number in answering}
    if released and agents:
        rewrite.add(agents[0].agent_id)
    for agent in agents:
        if agent.agent_id in rewrite:
            store.put(agent, stale_numbers=released if agent is agents[0] else ())


def sync_routes(
    services: Services, tenant_id: str, *, known_rules: Mapping[str, Any] | None = None
) -> list[RouteChange]:
    """Bring one active tenant's LiveKit dispatch rule, then its Redis keys, to what Postgres has,
    and return each change made (an empty list: they already agreed). Clears the office's pending
    marker once both agree. `known_rules` (every rule on the trunk by name, listed once for a pass
    over many tenants) saves listing them per tenant; a stale entry costs only a needless update.

    Changes to the office wait while it runs (its tenant row is locked). A tenant that is not
    `active` is left alone (provisioning and deprovisioning own its routes): `[]`. Raises
    `TransientError` / `VendorError` when LiveKit or Redis fails: the marker stays, a rule already
    repaired stays repaired (a Redis outage does not keep LiveKit wrong), and the next call
    finishes the job.
    """
    failure: AppError | None = None
    with services.db.transaction() as conn:
        registry.lock_row(conn, tenant_id)
        tenant = registry.get_tenant(conn, tenant_id, with_steps=False)
        if tenant.status != "active":
            return []
        agents = office_agents(conn, tenant_id)
        marker = pending(conn, tenant_id)
        changes, had = _sync_rule(services, conn, tenant, known_rules)
        removed = marker.removed_agents if marker else []
        numbers = {*tenant.phone_numbers, *had, *(marker.released_numbers if marker else [])}
        try:
            seen = _observe_cache(services, tenant_id, agents, removed, numbers)
            cache_changes = plan_cache(tenant_id, agents, removed, seen)
            _apply_cache(services, tenant_id, agents, cache_changes, seen)
        except AppError as exc:
            failure = exc  # raised once the rule's repair (and its id) is committed
        else:
            changes += cache_changes
            if marker is not None:
                conn.execute("DELETE FROM platform.agent_routes_pending WHERE tenant_id = %s", (tenant_id,))
    for change in changes:
        logger.info("route repaired", extra=change.log_fields())
    if failure is not None:
        raise failure
    return changes


def follow(services: Services, tenant_id: str, since: datetime) -> datetime | None:
    """After an agent change committed: `sync_routes`, and None when LiveKit and Redis have it;
    `since` (the change stays pending, for the reconciler) when either failed."""
    try:
        sync_routes(services, tenant_id)
    except AppError as exc:  # LiveKit, Redis or Postgres: the change is committed, the reconciler retries
        logger.warning(
            "agent change pending: routes not yet in livekit and redis",
            extra={"tenant_id": tenant_id, "error": type(exc).__name__},
        )
        return since
    return None
