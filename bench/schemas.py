"""Schema-per-tenant at scale: creating 2,000 tenant schemas, then migrating all of them.

Figures (goals from the issue):
- median time to create one schema, first 200 vs last 200 (ratio ≤ 1.2: cost stays flat);
- one new tenant migration applied to every schema by `migrate_all_tenants` (≤ 2 minutes), against a
  baseline measured in the same run: the same migration applied one schema at a time to a sample,
  extrapolated to all schemas;
- the same for tenant migration 0007 (search by a word's start and spelling, issue 15: the stored
  column recomputed for every complaint, the GIN index rebuilt), the schemas created at 0006 and given
  `--rows` complaints each first.
Run: `.venv/bin/python -m bench.schemas [--schemas 2000] [--rows 100]` (a few minutes; not part of CI).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from psycopg import sql

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


SEARCH_MIGRATION = "0007"  # the search index this bench times on complaints already stored


def add_complaints(db: Database, schemas: list[str], rows: int) -> None:
    """`rows` complaints in each schema, in the three languages, for the search migration to index."""
    for schema in schemas:
        with db.transaction() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.complaints (reference, idempotency_key, category, description, location, language,"
                    " sla_due_at) SELECT 1000 + g, 'bench-' || g, 'water', (ARRAY['குடிநீர் வரவில்லை மூன்று நாட்களாக',"
                    " 'हैंडपम्प खराब है', 'Potholes on the main road'])[1 + g %% 3], 'Ward ' || (g %% 60),"
                    " (ARRAY['ta','hi','en'])[1 + g %% 3], now() + interval '7 days' FROM generate_series(1, %s) AS g"
                ).format(sql.Identifier(schema)),
                (rows,),
            )


def timed_migration(
    db: Database, schemas: list[str], migrations: tuple[Migration, ...], sample: int, workers: int
) -> tuple[float, float, int, int]:
    """`migrations`' pending one applied one schema at a time to `sample` schemas (the baseline,
    extrapolated to all), then by `migrate_all_tenants` to the rest: (all, baseline, migrated, failed)."""
    times = []
    for schema in schemas[:sample]:
        t = time.perf_counter()
        migrate_tenant(db, schema, migrations)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    report = migrate_all_tenants(db, workers=workers, migrations=migrations)
    return time.perf_counter() - t, statistics.mean(times) * len(schemas), report.migrated, len(report.failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemas", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--sample", type=int, default=100, help="schemas migrated one at a time for the baseline")
    parser.add_argument("--rows", type=int, default=100, help="complaints in each schema for the search migration")
    args = parser.parse_args()
    window = min(200, args.schemas // 4)

    pg = start_postgres(Path(tempfile.mkdtemp()) / "pg")
    try:
        db = Database(pg.url, max_size=args.workers + 2)
        migrate_control_plane(db)
        schemas = register_tenants(db, args.schemas)

        shipped = load_migrations("tenant")
        before_search = tuple(m for m in shipped if m.version < SEARCH_MIGRATION)
        created = []
        started = time.perf_counter()
        for schema in schemas:
            t = time.perf_counter()
            migrate_tenant(db, schema, before_search)
            created.append(time.perf_counter() - t)
        create_total = time.perf_counter() - started
        first, last = statistics.median(created[:window]), statistics.median(created[-window:])

        add_complaints(db, schemas, args.rows)
        search = timed_migration(db, schemas, shipped, args.sample, args.workers)

        migrate_all, sequential_estimate, migrated, failed = timed_migration(
            db, schemas, (*shipped, BENCH_MIGRATION), args.sample, args.workers
        )
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
        f"   (goal ≤ 120 s; {migrated} migrated, {failed} failed)"
    )
    print(
        f"  baseline: one schema at a time, {args.sample} sampled × {args.schemas}  {sequential_estimate:6.1f} s"
        f"   ratio {migrate_all / sequential_estimate:4.2f}"
    )
    print(
        f"  search index (tenant {SEARCH_MIGRATION}), {args.rows} complaints a schema ({args.workers} workers)"
        f"  {search[0]:6.1f} s   (goal ≤ 120 s; {search[2]} migrated, {search[3]} failed)"
    )
    print(
        f"  baseline: one schema at a time, {args.sample} sampled × {args.schemas}  {search[1]:6.1f} s"
        f"   ratio {search[0] / search[1]:4.2f}"
    )


def db_relations(db: Database) -> int:
    with db.transaction() as conn:
        row = conn.execute("SELECT count(*) AS n FROM pg_class").fetchone()
        assert row is not None
        return int(row["n"])


if __name__ == "__main__":
    main()
