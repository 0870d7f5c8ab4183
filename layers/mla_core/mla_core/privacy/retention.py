"""Retention (DPDP: personal data kept no longer than its purpose needs): each office's policy, and the
job that applies it every day (`functions/privacy/privacy_jobs.py`, and `mla_core.cli retention`).

An office's policy is `core.retention.RetentionPolicy`'s defaults with the days its super admin set
(`platform.tenants.retention`). Every run, for every office, active or deprovisioned:

1. each feature's hook `expire`s what is past its days, in batches, until nothing is left; the Redis keys
   and the objects the meetings' recordings bucket holds go after each commit (those S3 would not delete
   stay in the run's `pending` and are tried again on the next run); calls' recordings' objects stay in
   `pending` (no bucket of theirs yet);
2. what an erasure left `pending` in Redis is retried;
3. a deprovisioned office's archive, `archive_after_deprovision` days after it was deprovisioned, is
   dropped (`DROP SCHEMA … CASCADE`, `archive_dropped_at` set); from `ARCHIVE_NOTICE_DAYS` before, it is
   reported as due, and the panel offers its export (`mla_core.cli export`);
4. a `platform.retention_runs` row records the counts.

The platform's LiveKit webhook records older than `WEBHOOK_EVENT_DAYS` are purged on every run. A dry run
changes nothing and records nothing: it reports what a run would do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from mla_core.adapters import Services
from mla_core.calls.personal_data import expire_webhook_events
from mla_core.core.errors import InvalidInputError, NotFoundError
from mla_core.core.retention import RetentionPolicy
from mla_core.db import Conn
from mla_core.db.personal_data import Erased
from mla_core.privacy.discovery import personal_data
from mla_core.privacy.requests import forget_keys, forget_objects, settle

logger = logging.getLogger(__name__)

ARCHIVE_NOTICE_DAYS = 30  # the export of an archive is offered this long before it is dropped
MAX_ROUNDS = 200  # batches per office and run: 1,000,000 rows of each kind


class TenantRetention(BaseModel):
    """One office's retention: its effective policy, its own days, its last run and its archive's fate."""

    tenant_id: str
    policy: RetentionPolicy
    overrides: dict[str, int]
    last_run_at: datetime | None = None
    last_run_counts: dict[str, int] = {}
    archive_drop_at: date | None = None  # a deprovisioned office's archive: when it will be dropped
    archive_dropped_at: datetime | None = None


class TenantRun(BaseModel):
    tenant_id: str
    schema_name: str
    counts: dict[str, int] = {}
    pending: dict[str, list[str]] = {}
    archive_drop_due: date | None = None  # set from ARCHIVE_NOTICE_DAYS before the drop
    archive_dropped: bool = False


class RetentionReport(BaseModel):
    now: datetime
    dry_run: bool
    webhook_events: int = 0
    erasures_retried: int = 0
    tenants: list[TenantRun] = []

    def summary(self) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for run in self.tenants:
            for kind, n in run.counts.items():
                totals[kind] = totals.get(kind, 0) + n
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "tenants": len(self.tenants),
            "counts": totals,
            "webhook_events": self.webhook_events,
            "erasures_retried": self.erasures_retried,
            "archives_dropped": [r.tenant_id for r in self.tenants if r.archive_dropped],
            "archives_due": {r.tenant_id: r.archive_drop_due.isoformat() for r in self.tenants if r.archive_drop_due},
        }


# An office's policy ------------------------------------------------------------------------------


def effective_policy(overrides: dict[str, Any]) -> RetentionPolicy:
    """The defaults with an office's own days (each within its bounds: `InvalidInputError` naming the field)."""
    try:
        return RetentionPolicy.model_validate(overrides)
    except PydanticValidationError as exc:
        details = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in exc.errors()]
        raise InvalidInputError("a retention period is outside its bounds", details=details) from exc


def archive_drop_at(deleted_at: datetime | None, policy: RetentionPolicy) -> date | None:
    return (deleted_at + timedelta(days=policy.archive_after_deprovision)).date() if deleted_at else None


def tenant_retention(services: Services, tenant_id: str) -> TenantRetention:
    with services.db.transaction() as conn:
        row = conn.execute(
            "SELECT t.retention, t.deleted_at, t.archived_schema, t.archive_dropped_at, r.ran_at, r.counts"
            " FROM platform.tenants t LEFT JOIN LATERAL (SELECT ran_at, counts FROM platform.retention_runs"
            " WHERE tenant_id = t.tenant_id ORDER BY ran_at DESC LIMIT 1) r ON true WHERE t.tenant_id = %s",
            (tenant_id,),
        ).fetchone()
    if row is None:
        raise NotFoundError("no such office")
    policy = effective_policy(row["retention"])
    return TenantRetention(
        tenant_id=tenant_id,
        policy=policy,
        overrides=row["retention"],
        last_run_at=row["ran_at"],
        last_run_counts=row["counts"] or {},
        archive_drop_at=archive_drop_at(row["deleted_at"], policy) if row["archived_schema"] else None,
        archive_dropped_at=row["archive_dropped_at"],
    )


def set_tenant_retention(services: Services, tenant_id: str, overrides: dict[str, Any]) -> TenantRetention:
    """Replace an office's own days (what it leaves out is the default)."""
    policy = effective_policy(overrides)
    stored = policy.model_dump(include=set(overrides))
    with services.db.transaction() as conn:
        updated = conn.execute(
            "UPDATE platform.tenants SET retention = %s, updated_at = now() WHERE tenant_id = %s",
            (Jsonb(stored), tenant_id),
        ).rowcount
    if not updated:
        raise NotFoundError("no such office")
    logger.info("retention set", extra={"tenant_id": tenant_id, "overrides": stored})
    return tenant_retention(services, tenant_id)


# The job -----------------------------------------------------------------------------------------


def apply_retention(
    services: Services, *, now: datetime, dry_run: bool = False, tenant_id: str | None = None
) -> RetentionReport:
    """Apply every office's retention as of `now` (or only office `tenant_id`'s)."""
    report = RetentionReport(now=now, dry_run=dry_run)
    report.webhook_events = expire_webhook_events(services.db, now, dry_run=dry_run)
    if not dry_run:
        report.erasures_retried = _retry_pending_erasures(services, tenant_id)
    for office in _offices(services, tenant_id):
        report.tenants.append(_apply_to_office(services, office, now, dry_run))
    logger.info("retention applied", extra=report.summary())
    return report


def _offices(services: Services, tenant_id: str | None) -> list[dict[str, Any]]:
    """Every office with a schema: its own (`tenant_…`) or, once deprovisioned, its archive."""
    with services.db.transaction() as conn:
        return conn.execute(
            "SELECT t.tenant_id, t.retention, t.deleted_at, t.archived_schema,"
            " COALESCE(t.archived_schema, t.schema_name) AS schema FROM platform.tenants t"
            " WHERE (%(t)s::text IS NULL OR t.tenant_id = %(t)s)"
            " AND EXISTS (SELECT FROM pg_namespace WHERE nspname = COALESCE(t.archived_schema, t.schema_name))"
            " AND (t.status <> 'deleted' OR t.archived_schema IS NOT NULL) ORDER BY t.tenant_id",
            {"t": tenant_id},
        ).fetchall()


def _apply_to_office(services: Services, office: dict[str, Any], now: datetime, dry_run: bool) -> TenantRun:
    policy = effective_policy(office["retention"])
    run = TenantRun(tenant_id=office["tenant_id"], schema_name=office["schema"])
    drop_at = archive_drop_at(office["deleted_at"], policy) if office["archived_schema"] else None
    if drop_at is not None and office["deleted_at"] + timedelta(days=policy.archive_after_deprovision) <= now:
        _drop_archive(services, run, dry_run)
    else:
        if drop_at is not None and now.date() >= drop_at - timedelta(days=ARCHIVE_NOTICE_DAYS):
            run.archive_drop_due = drop_at
            logger.info("archive_drop_due", extra={"tenant_id": run.tenant_id, "drop_at": drop_at.isoformat()})
        _expire(services, run, policy, now, dry_run)
        if not dry_run:
            _retry_objects(services, run)
    if not dry_run:
        with services.db.transaction() as conn:
            conn.execute(
                "INSERT INTO platform.retention_runs (tenant_id, now, counts, pending) VALUES (%s, %s, %s, %s)",
                (run.tenant_id, now, Jsonb(run.counts), Jsonb(run.pending)),
            )
    return run


def _expire(services: Services, run: TenantRun, policy: RetentionPolicy, now: datetime, dry_run: bool) -> None:
    """Each hook's `expire`, batch after batch until none is left. A dry run does it all in one
    transaction rolled back at the end (a batch's changes hide its rows from the next one)."""
    if dry_run:
        with services.db.transaction() as conn, conn.transaction(force_rollback=True):
            total = _rounds(lambda: _expire_round(conn, run.schema_name, policy, now))
    else:

        def committed() -> Erased:
            with services.db.transaction() as conn:
                batch = _expire_round(conn, run.schema_name, policy, now)
            forget_keys(services, batch.redis_keys)
            batch.objects = forget_objects(services, batch.objects)
            return batch

        total = _rounds(committed)
    run.counts.update(total.counts)
    if total.objects:
        run.pending["objects"] = total.objects


def _retry_objects(services: Services, run: TenantRun) -> None:
    """The recordings the office's last run could not delete from the bucket (S3 refused then), deleted
    now; those still refused stay in this run's `pending`."""
    with services.db.transaction() as conn:
        row = conn.execute(
            "SELECT pending FROM platform.retention_runs WHERE tenant_id = %s ORDER BY ran_at DESC LIMIT 1",
            (run.tenant_id,),
        ).fetchone()
    earlier = [o for o in (row["pending"].get("objects", []) if row else []) if services.recordings.owns(o)]
    if earlier:
        left = [o for o in forget_objects(services, earlier) if o not in run.pending.get("objects", [])]
        if left:
            run.pending["objects"] = [*run.pending.get("objects", []), *left]


def _rounds(batch: Callable[[], Erased]) -> Erased:
    """`batch` again and again, up to `MAX_ROUNDS` times, until one changes nothing; what they changed."""
    total = Erased()
    for _ in range(MAX_ROUNDS):
        done = batch()
        total.add(done)
        if not any(done.counts.values()):
            break
    return total


def _expire_round(conn: Conn, schema: str, policy: RetentionPolicy, now: datetime) -> Erased:
    batch = Erased()
    for hook in personal_data():
        batch.add(hook.expire(conn, schema, policy, now))
    return batch


def _drop_archive(services: Services, run: TenantRun, dry_run: bool) -> None:
    run.archive_dropped = True
    run.counts["archived_schema"] = 1
    if dry_run:
        return
    with services.db.transaction() as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(run.schema_name)))
        conn.execute(
            "UPDATE platform.tenants SET archived_schema = NULL, archive_dropped_at = now(), updated_at = now()"
            " WHERE tenant_id = %s",
            (run.tenant_id,),
        )
    logger.info("archive dropped", extra={"tenant_id": run.tenant_id, "schema": run.schema_name})


def _retry_pending_erasures(services: Services, tenant_id: str | None) -> int:
    """The Redis keys erasures could not delete at the time, deleted now (objects wait for a bucket)."""
    with services.db.transaction() as conn:
        rows = conn.execute(
            "SELECT id, pending FROM platform.privacy_requests WHERE kind = 'erase' AND completed_at IS NULL"
            " AND pending ? 'redis_keys' AND (%(t)s::text IS NULL OR tenant_id = %(t)s) ORDER BY created_at LIMIT 1000",
            {"t": tenant_id},
        ).fetchall()
    retried = 0
    for row in rows:
        if forget_keys(services, row["pending"]["redis_keys"]):
            break
        left = {kind: items for kind, items in row["pending"].items() if kind != "redis_keys"}
        with services.db.transaction() as conn:
            settle(conn, row["id"], left)
        retried += 1
    return retried
