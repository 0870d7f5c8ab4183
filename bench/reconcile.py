"""Reconciler: one full pass over many active tenants (each tenant's dispatch rule and Redis keys
compared with Postgres), against the local stack.

Prints the pass's total time, the median time per tenant for the first and the last 200, and a
baseline measured in the same run: per tenant, one Postgres round trip and one Redis GET (the
least a comparison can cost; the dispatch rules are listed once per pass). Goal: ≤ 60 s for 2,000
tenants, flat per tenant.
Run: `make bench` or `.venv/bin/python -m bench.reconcile [--tenants 2000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path

from psycopg.types.json import Jsonb

from local_stack.stack import LocalStack


def seed(count: int) -> list[str]:
    """`count` active tenants as provisioning leaves them: registry row, numbers, agent config, rule, Redis."""
    from mla_core.adapters import get_services
    from mla_core.agents.config import build_default_config
    from mla_core.agents.routing import dispatch_rule_spec
    from mla_core.core.names import room_name, schema_name
    from mla_core.tenants import registry

    services = get_services()
    tenant_ids = []
    for index in range(count):
        tenant_id = registry.new_tenant_id()
        number = f"+9180{index:08d}"
        with services.db.transaction() as conn:
            registry.insert_tenant(
                conn,
                {
                    "tenant_id": tenant_id,
                    "mla_name": f"MLA {index}",
                    "constituency": f"Constituency {index}",
                    "state": "Tamil Nadu",
                    "languages": ["ta", "en"],
                    "admin_email": f"bench{index}@office.example.in",
                    "admin_name": None,
                    "greeting": None,
                    "schema_name": schema_name(tenant_id),
                    "room_name": room_name(tenant_id),
                },
                [number],
            )
            registry.update_tenant(conn, tenant_id, status="active")
            tenant = registry.get_tenant(conn, tenant_id, with_steps=False)
            config = build_default_config(
                tenant_id=tenant_id,
                mla_name=tenant.mla_name,
                constituency=tenant.constituency,
                state=tenant.state,
                languages=tenant.languages,
                phone_numbers=tenant.phone_numbers,
                greeting=None,
                sender_id="MLAOFC",
                dlt_entity_id="",
            )
            conn.execute(
                "INSERT INTO platform.agent_configs (agent_id, tenant_id, version, config) VALUES (%s, %s, %s, %s)",
                (config.agent_id, tenant_id, config.version, Jsonb(config.model_dump(mode="json"))),
            )
        rule = asyncio.run(services.livekit.ensure_dispatch_rule(dispatch_rule_spec(services, tenant)))
        with services.db.transaction() as conn:
            registry.update_tenant(conn, tenant_id, sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
        services.agent_configs.put(config)
        tenant_ids.append(tenant_id)
    return tenant_ids


def timed_pass() -> tuple[float, list[float], int]:
    """A full reconcile pass; its seconds, the seconds per active tenant in order, and its repairs."""
    from mla_core.adapters import get_services
    from mla_core.agents import sync
    from mla_core.provisioning import reconcile

    per_tenant: list[float] = []
    original = sync.sync_routes

    def timed(services: object, tenant_id: str, **options: object) -> list[sync.RouteChange]:
        started = time.perf_counter()
        try:
            return original(services, tenant_id, **options)  # type: ignore[arg-type]
        finally:
            per_tenant.append(time.perf_counter() - started)

    sync.sync_routes = timed
    try:
        started = time.perf_counter()
        report = reconcile.reconcile(get_services())
        total = time.perf_counter() - started
    finally:
        sync.sync_routes = original
    return total, per_tenant, len(report.repairs)


def baseline(tenant_ids: list[str]) -> list[float]:
    from mla_core.adapters import get_services
    from mla_core.core.names import main_agent_id

    services = get_services()
    samples = []
    for tenant_id in tenant_ids:
        started = time.perf_counter()
        with services.db.transaction() as conn:
            conn.execute("SELECT tenant_id FROM platform.tenants WHERE tenant_id = %s", (tenant_id,)).fetchone()
        services.agent_configs.get(tenant_id, main_agent_id(tenant_id))
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=2000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    stack = LocalStack(root=Path(tempfile.mkdtemp()), ephemeral_ports=True, schedules=False).start()
    try:
        seeded_at = time.perf_counter()
        tenant_ids = seed(args.tenants)
        seeded = time.perf_counter() - seeded_at
        total, per_tenant, repairs = timed_pass()
        base = baseline(tenant_ids[:200] + tenant_ids[-200:])
    finally:
        stack.stop()
    first, last = statistics.median(per_tenant[:200]), statistics.median(per_tenant[-200:])
    print(f"Reconcile pass over {len(per_tenant)} active tenants (seeded in {seeded:.0f} s; goal ≤ 60 s, flat)")
    print(f"  total                         {total:7.1f} s   ({repairs} repairs: expected 0)")
    print(f"  per tenant, first 200 (p50)   {first * 1000:7.1f} ms")
    print(f"  per tenant, last 200 (p50)    {last * 1000:7.1f} ms   last/first {last / first:5.2f}×")
    print(
        f"  baseline per tenant (p50)     {statistics.median(base) * 1000:7.1f} ms   ratio {first / statistics.median(base):5.2f}×"
    )


if __name__ == "__main__":
    main()
