"""The reconciler: no tenant stays `provisioning` for ever, and no cleanup is forgotten.

Step Functions runs provisioning, and one fault can leave a tenant behind its execution: a process
killed mid-way, a crash between the registry's commit and StartExecution, a compensation that ran out
of retries. `reconcile` (the scheduled `ReconcileFunction`, every five minutes; also run when
`make dev` starts and by `python -m mla_core.cli reconcile`) looks at every such tenant:

- `provisioning`, and its execution is no longer running (or never started, `grace` after the
  request): if every step before `activate` succeeded the tenant is activated, otherwise compensated
  and `failed`, with the first failure's words kept;
- `failed` with cleanup pending: compensation runs again until nothing is left;
- `active`: its LiveKit dispatch rule and Redis keys are compared with Postgres and repaired
  (`agents.sync.sync_routes`), which also finishes an agent change whose routes did not follow.

Where compensation cannot finish, the tenant is `failed` with `error.cleanup_pending` naming the
steps still to undo (the admin panel shows it); retry cleans up first, delete removes everything
anyway. Every repair is logged and returned, and the Lambda counts them as a metric.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, get_args

from mla_core import db
from mla_core.adapters import Services
from mla_core.agents import sync
from mla_core.agents.routing import sip_trunk_id
from mla_core.core.errors import AppError
from mla_core.provisioning import workflow
from mla_core.tenants import registry
from mla_core.tenants.registry import Tenant

logger = logging.getLogger(__name__)

Action = Literal["activated", "compensated", "cleanup_pending", "cleaned_up", "routes_repaired", "routes_failed"]
ACTIONS: tuple[Action, ...] = get_args(Action)


@dataclass(frozen=True)
class Repair:
    tenant_id: str
    action: Action
    detail: str


@dataclass
class ReconcileReport:
    examined: int = 0
    repairs: list[Repair] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, repair: Repair | None) -> None:
        if repair is None:
            return
        logger.warning(
            "reconciler repaired a tenant",
            extra={"tenant_id": repair.tenant_id, "action": repair.action, "detail": repair.detail},
        )
        self.repairs.append(repair)

    def count(self, action: Action) -> int:
        return sum(1 for repair in self.repairs if repair.action == action)

    def summary(self) -> dict[str, Any]:
        return {"examined": self.examined, "repairs": [vars(r) for r in self.repairs], "seconds": self.seconds}


def reconcile(services: Services, *, grace_seconds: float | None = None) -> ReconcileReport:
    """Repair every tenant a fault left behind its workflow; see the module docstring."""
    started = time.perf_counter()
    grace = timedelta(seconds=services.settings.reconcile_grace_seconds if grace_seconds is None else grace_seconds)
    report = ReconcileReport()
    with services.db.transaction() as conn:
        rows = conn.execute(
            "SELECT tenant_id, execution_arn FROM platform.tenants"
            " WHERE status = 'provisioning' OR (status = 'failed' AND error ? 'cleanup_pending'"
            " AND jsonb_array_length(error -> 'cleanup_pending') > 0) ORDER BY created_at"
        ).fetchall()
        now = db.now(conn)
    for row in rows:
        report.examined += 1
        with services.db.transaction() as conn:
            tenant = registry.get_tenant(conn, row["tenant_id"])
        report.add(
            finish_cleanup(services, tenant)
            if tenant.status == "failed"
            else _settle(services, tenant, row["execution_arn"], stale=tenant.updated_at < now - grace)
        )
    with services.db.transaction() as conn:
        active = conn.execute("SELECT tenant_id FROM platform.tenants WHERE status = 'active' ORDER BY created_at")
        active_ids = [row["tenant_id"] for row in active.fetchall()]
    rules = _every_rule(services) if active_ids else None
    for tenant_id in active_ids:
        report.examined += 1
        report.add(_sync(services, tenant_id, rules))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _every_rule(services: Services) -> dict[str, Any] | None:
    """The trunk's dispatch rules, listed once for the pass (None: each tenant looks its own up)."""
    try:
        return asyncio.run(services.livekit.dispatch_rules(sip_trunk_id(services)))
    except AppError:
        return None


def _sync(services: Services, tenant_id: str, rules: dict[str, Any] | None) -> Repair | None:
    """An active tenant's routes brought to Postgres; a vendor failure is reported, the pass goes on."""
    try:
        changes = sync.sync_routes(services, tenant_id, known_rules=rules)
    except AppError as exc:
        return Repair(tenant_id, "routes_failed", exc.message)
    if not changes:
        return None
    return Repair(tenant_id, "routes_repaired", ", ".join(f"{c.target} {c.action}" for c in changes))


def _settle(services: Services, tenant: Tenant, execution_arn: str | None, *, stale: bool) -> Repair | None:
    """A `provisioning` tenant whose execution ended (or never began) is activated or compensated."""
    # None: never started (no ARN), or Step Functions has no such execution (so it is not running).
    state = services.workflows.status(execution_arn) if execution_arn else None
    if state == "RUNNING" or (execution_arn is None and not stale):  # not started yet, or about to be
        return None
    before_activate = [step for step in tenant.steps if step.name != "activate"]
    if all(step.status == "succeeded" for step in before_activate):
        workflow.run_step(services, "activate", tenant.tenant_id)
        return Repair(tenant.tenant_id, "activated", f"every step had succeeded; execution {state or 'not started'}")
    failure = next((step.error for step in tenant.steps if step.error), None)
    message = failure or f"provisioning stopped before it finished (execution {state or 'never started'})"
    return _compensate(services, tenant, message, done="compensated")


def finish_cleanup(services: Services, tenant: Tenant) -> Repair:
    """Compensation run again for a `failed` tenant with cleanup pending (the reconciler, a retry)."""
    assert tenant.error is not None  # selected for its cleanup_pending
    return _compensate(services, tenant, tenant.error.message, done="cleaned_up", failed_step=tenant.error.step)


def _compensate(
    services: Services, tenant: Tenant, message: str, *, done: Action, failed_step: str | None = None
) -> Repair:
    try:
        workflow.compensate(services, tenant.tenant_id, failed_step, {}, message=message)
    except workflow.CompensationIncomplete as exc:
        mark_cleanup_pending(services, tenant.tenant_id, failed_step, message, exc.remaining)
        return Repair(tenant.tenant_id, "cleanup_pending", f"{', '.join(exc.remaining)} left: {exc}")
    return Repair(tenant.tenant_id, done, message)


def mark_cleanup_pending(
    services: Services, tenant_id: str, failed_step: str | None, message: str, remaining: list[str]
) -> None:
    """`failed`, with the steps still to undo named; the reconciler (or a retry) finishes them."""
    step = failed_step or next(iter(remaining), None)
    with services.db.transaction() as conn:
        registry.update_tenant(
            conn, tenant_id, status="failed", error={"step": step, "message": message, "cleanup_pending": remaining}
        )
