"""Schema-per-tenant at scale: creating 2,000 tenant schemas, then migrating all of them.

Figures (goals from the issue):
- median time to create one schema, first 200 vs last 200 (ratio ≤ 1.2: cost stays flat);
- one new tenant migration applied to every schema by `migrate_all_tenants` (≤ 2 minutes), against a
  baseline measured in the same run: the same migration applied one schema at a time to a sample,
  extrapolated to all schemas.
Run: `.venv/bin/python -m bench.schemas [--schemas 2000]` (a few minutes; not part of CI).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from local_stack.postgres import start_postgres
from mla_core.db import Database, close_pools
from mla_core.db.migrate import Migration, load_migrations, migrate_all_tenants, migrate_control_plane, migrate_tenant

BENCH_MIGRATION = Migration(
    version="9001",
    name="bench_priority_reason",
    sql="ALTER TABLE complaints ADD COLUMN priority_reason text;"
    " CREATE INDEX complaints_priority_idx ON complaints (priority, created_at DESC);",
)


def register_tenants(db: Database, count: int) -> list[str]:
    ids = [f"b{i:09d}" for i in range(count)]
    with db.transaction() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages,"
            " admin_email, schema_name, room_name) VALUES (%s, 'active', 'Bench', 'Bench', 'Tamil Nadu',"
            " '{ta}', %s, %s, %s)",
            [(t, f"{t}@example.in", f"tenant_{t}", f"mla-{t}") for t in ids],
        )
    return [f"tenant_{t}" for t in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemas", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--sample", type=int, default=100, help="schemas migrated one at a time for the baseline")
    args = parser.parse_args()
    window = min(200, args.schemas // 4)

    pg = start_postgres(Path(tempfile.mkdtemp()) / "pg")
    try:
        db = Database(pg.url, max_size=args.workers + 2)
        migrate_control_plane(db)
        schemas = register_tenants(db, args.schemas)

        created = []
        started = time.perf_counter()
        for schema in schemas:
            t = time.perf_counter()
            migrate_tenant(db, schema)
            created.append(time.perf_counter() - t)
        create_total = time.perf_counter() - started
        first, last = statistics.median(created[:window]), statistics.median(created[-window:])

        migrations = (*load_migrations("tenant"), BENCH_MIGRATION)
        sample = []
        for schema in schemas[: args.sample]:
            t = time.perf_counter()
            migrate_tenant(db, schema, migrations)
            sample.append(time.perf_counter() - t)
        sequential_estimate = statistics.mean(sample) * args.schemas

        t = time.perf_counter()
        report = migrate_all_tenants(db, workers=args.workers, migrations=migrations)
        migrate_all = time.perf_counter() - t
        relations = db_relations(db)
    finally:
        close_pools()
        pg.stop()

    print(f"Schema per tenant: {args.schemas} schemas ({relations} relations in the catalog at the end)")
    print(f"  create: median per schema, first {window}     {first * 1000:7.1f} ms")
    print(
        f"  create: median per schema, last {window}      {last * 1000:7.1f} ms   ratio {last / first:4.2f} (goal ≤ 1.2)"
    )
    print(f"  create: all {args.schemas} schemas                 {create_total:7.1f} s")
    print(
        f"  migrate: one new migration, all schemas ({args.workers} workers)  {migrate_all:6.1f} s"
        f"   (goal ≤ 120 s; {report.migrated} migrated, {len(report.failed)} failed)"
    )
    print(
        f"  baseline: one schema at a time, {args.sample} sampled × {args.schemas}  {sequential_estimate:6.1f} s"
        f"   ratio {migrate_all / sequential_estimate:4.2f}"
    )


def db_relations(db: Database) -> int:
    with db.transaction() as conn:
        row = conn.execute("SELECT count(*) AS n FROM pg_class").fetchone()
        assert row is not None
        return int(row["n"])


if __name__ == "__main__":
    main()
