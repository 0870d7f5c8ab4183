"""Versioned tenant migrations, tracked per schema, applied to every tenant in parallel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from local_stack.postgres import start_postgres
from mla_core.db import Database, close_pools
from mla_core.db.migrate import Migration, load_migrations, migrate_all_tenants, migrate_control_plane, migrate_tenant

NEXT = Migration("9001", "complaint_ward", "ALTER TABLE complaints ADD COLUMN ward text;")
SHIPPED = [m.version for m in load_migrations("tenant")]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    pg = start_postgres(Path(tmp_path_factory.mktemp("pg")))
    database = Database(pg.url)
    migrate_control_plane(database)
    yield database
    close_pools()
    pg.stop()


def register(db: Database, *tenant_ids: str) -> None:
    with db.transaction() as conn:
        for tenant_id in tenant_ids:
            conn.execute(
                "INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages,"
                " admin_email, schema_name, room_name) VALUES (%s, 'active', 'M', 'C', 'Kerala', '{en}', %s, %s, %s)",
                (tenant_id, f"{tenant_id}@example.in", f"tenant_{tenant_id}", f"mla-{tenant_id}"),
            )
            migrate_tenant(db, f"tenant_{tenant_id}")


def versions(db: Database, schema: str) -> list[str]:
    with db.transaction() as conn:
        rows = conn.execute(
            sql.SQL("SELECT version FROM {}.schema_migrations ORDER BY version").format(sql.Identifier(schema))
        ).fetchall()
    return [row["version"] for row in rows]


def test_a_new_schema_is_created_at_the_latest_migration_and_creating_it_again_changes_nothing(
    db: Database,
) -> None:
    assert migrate_tenant(db, "tenant_mig0000001") == [m.version for m in load_migrations("tenant")]
    assert migrate_tenant(db, "tenant_mig0000001") == []
    assert versions(db, "tenant_mig0000001") == SHIPPED


def test_a_pending_migration_reaches_every_tenant_schema_once(db: Database) -> None:
    register(db, "mig0000002", "mig0000003", "mig0000004")
    migrations = (*load_migrations("tenant"), NEXT)

    first = migrate_all_tenants(db, workers=3, migrations=migrations)
    again = migrate_all_tenants(db, workers=3, migrations=migrations)

    assert first.failed == {} and first.migrated == first.schemas >= 3
    assert again.migrated == 0
    for tenant_id in ("mig0000002", "mig0000003", "mig0000004"):
        assert versions(db, f"tenant_{tenant_id}") == [*SHIPPED, "9001"]


def test_one_broken_schema_is_reported_and_the_others_are_migrated(db: Database) -> None:
    register(db, "mig0000005", "mig0000006")
    with db.transaction() as conn:  # someone added the column by hand: the migration fails there
        conn.execute("ALTER TABLE tenant_mig0000005.complaints ADD COLUMN ward text")

    report = migrate_all_tenants(db, workers=2, migrations=(*load_migrations("tenant"), NEXT))

    assert set(report.failed) == {"tenant_mig0000005"}
    assert versions(db, "tenant_mig0000005") == SHIPPED  # its transaction rolled back whole
    assert versions(db, "tenant_mig0000006") == [*SHIPPED, "9001"]
