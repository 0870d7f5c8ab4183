"""The SLA watcher (every minute): each open complaint that passes its due time raises one
`sla.breached` event to its office's open pages (the banner), once per due date."""

from __future__ import annotations

import logging

from psycopg import sql

from mla_core.adapters import Services
from mla_core.complaints.lifecycle import OPEN
from mla_core.core.names import schema_name
from mla_core.live import events

logger = logging.getLogger(__name__)

BATCH = 500  # breaches raised per office and run; the next minute's run takes the rest


def watch(services: Services) -> dict[str, int]:
    """Raise the breaches of every active office; how many, by office."""
    with services.db.transaction() as conn:
        offices = [
            row["tenant_id"] for row in conn.execute("SELECT tenant_id FROM platform.tenants WHERE status = 'active'")
        ]
    raised = {tenant_id: n for tenant_id in offices if (n := raise_breaches(services, tenant_id))}
    logger.info("sla watched", extra={"offices": len(offices), "breaches": sum(raised.values())})
    return raised


def raise_breaches(services: Services, tenant_id: str) -> int:
    """Mark the office's newly breached complaints (in one statement, so two runs never raise one
    twice) and tell its pages, one event each."""
    query = sql.SQL(
        "UPDATE {table} SET sla_breached_at = now() WHERE id IN ("
        " SELECT id FROM {table} WHERE sla_due_at < now() AND status IN ({open})"
        " AND (sla_breached_at IS NULL OR sla_breached_at < sla_due_at)"
        " ORDER BY sla_due_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED)"
        " RETURNING reference"
    ).format(
        table=sql.Identifier(schema_name(tenant_id), "complaints"),
        open=sql.SQL(", ").join(map(sql.Literal, OPEN)),
    )
    with services.db.transaction() as conn:
        references = [int(row["reference"]) for row in conn.execute(query, {"batch": BATCH})]
    for reference in references:
        events.office_changed(services, tenant_id, "sla.breached", reference=reference)
    return len(references)
