"""Versioned SQL migrations for the control plane and for every tenant schema.

Migrations are `.sql` files under `migrations/control/` and `migrations/tenant/`, named
`NNNN_description.sql` and applied in order. Each schema tracks what it has applied in its own
`schema_migrations` table, so tenants can be migrated independently, in parallel, and resumed.

A tenant migration runs inside one transaction with `SET LOCAL search_path` set to the tenant's
schema, so the same file serves every tenant and works through Supabase's transaction pooler.
The list of tenant schemas comes from `platform.tenants`, never from catalog introspection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import resources

from psycopg import sql

from mla_core.db import Conn, Database

CONTROL_SCHEMA = "platform"


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str


@cache
def load_migrations(kind: str) -> tuple[Migration, ...]:
    """The migrations of `kind` ("control" or "tenant"), in the order they apply."""
    folder = resources.files("mla_core.db") / "migrations" / kind
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append(Migration(version=version, name=name, sql=entry.read_text(encoding="utf-8")))
    return tuple(sorted(found, key=lambda m: m.version))


def latest_version(kind: str) -> str:
    return load_migrations(kind)[-1].version


def _lock_key(schema: str) -> int:
    """A stable 63-bit advisory-lock key per schema, so two migrators never race on one schema."""
    return int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def apply_to_schema(conn: Conn, schema: str, kind: str, migrations: Sequence[Migration] | None = None) -> list[str]:
    """Create `schema` if needed and apply its pending migrations, in the caller's transaction.

    `migrations` defaults to the `.sql` files of `kind`. Returns the versions applied (empty when
    the schema was already current).
    """
    ident = sql.Identifier(schema)
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(schema),))
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
    conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(ident))
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    done = []
    for migration in migrations if migrations is not None else load_migrations(kind):
        if migration.version in applied:
            continue
        conn.execute(migration.sql)
        conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
            (migration.version, migration.name),
        )
        done.append(migration.version)
    conn.execute("SET LOCAL search_path TO DEFAULT")
    return done


def migrate_control_plane(db: Database) -> list[str]:
    with db.transaction() as conn:
        return apply_to_schema(conn, CONTROL_SCHEMA, "control")


def migrate_tenant(db: Database, schema: str, migrations: Sequence[Migration] | None = None) -> list[str]:
    with db.transaction() as conn:
        return apply_to_schema(conn, schema, "tenant", migrations)


def tenant_schemas(db: Database) -> list[str]:
    """Every schema a live tenant has: the registry's, and only where it exists. A migration never
    creates one (the provisioning step does), so a schema compensation dropped stays dropped and an
    archived one is not re-created under its old name."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT t.schema_name FROM platform.tenants t JOIN pg_namespace n ON n.nspname = t.schema_name"
            " WHERE t.status <> 'deleted' ORDER BY t.created_at"
        ).fetchall()
    return [row["schema_name"] for row in rows]


@dataclass(frozen=True)
class MigrationReport:
    schemas: int
    migrated: int
    failed: dict[str, str]


def migrate_all_tenants(
    db: Database, *, workers: int = 8, migrations: Sequence[Migration] | None = None
) -> MigrationReport:
    """Apply pending tenant migrations to every tenant schema, `workers` schemas at a time.

    Each schema is its own transaction: one failing schema is reported and leaves the others
    migrated; running the command again picks up where it stopped.
    """
    schemas = tenant_schemas(db)
    failed: dict[str, str] = {}
    migrated = 0

    def run(schema: str) -> tuple[str, list[str] | Exception]:
        try:
            return schema, migrate_tenant(db, schema, migrations)
        except Exception as exc:  # reported per schema, the batch goes on
            return schema, exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for schema, outcome in pool.map(run, schemas):
            if isinstance(outcome, Exception):
                failed[schema] = str(outcome)
            elif outcome:
                migrated += 1
    return MigrationReport(schemas=len(schemas), migrated=migrated, failed=failed)
