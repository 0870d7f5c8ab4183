"""The office's overview: counts by status, category and day, what is overdue, and how fast
complaints get resolved."""

from __future__ import annotations

from mla_core.adapters import Services
from mla_core.complaints import lifecycle, store
from mla_core.complaints.models import DayCount, Stats


def summary(services: Services, tenant_id: str) -> Stats:
    """Counts by status, category and day (30 days), overdue, median time to resolve (90 days).

    One grouped pass gives the status, category, total and overdue counts; the median looks at the
    last 90 days of resolutions only.
    """
    with services.db.transaction() as conn:
        groups = store.counts(conn, tenant_id)
        by_day = store.created_by_day(conn, tenant_id)
        seconds = store.median_seconds_to_resolve(conn, tenant_id)
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for group in groups:
        by_status[group["status"]] = by_status.get(group["status"], 0) + group["n"]
        by_category[group["category"]] = by_category.get(group["category"], 0) + group["n"]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_category": by_category,
        "by_day": by_day,
        "overdue": sum(g["late"] for g in groups if g["status"] in lifecycle.OPEN),
        "median_hours_to_resolve_90d": round(seconds / 3600, 1) if seconds is not None else None,
    }


def overdue_trend(services: Services, tenant_id: str, days: int = 30) -> list[DayCount]:
    """How many complaints were overdue at the end of each of the last `days` days (India time):
    past their SLA date and not yet resolved or closed then (duplicates and transfers left out)."""
    with services.db.transaction() as conn:
        return store.overdue_by_day(conn, tenant_id, days)
