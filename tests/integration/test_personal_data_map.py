"""Every text and JSON column of an office's schema and of the platform's is answered for: by exactly one
feature's personal-data hook (what it erases, or says holds nothing personal), or below, with the reason
it holds no constituent's data. A new column fails here until someone decides."""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mla_core.db.migrate import apply_to_schema
from mla_core.privacy.discovery import personal_data
from privacy_support import text_columns

# The platform's own records: offices, their staff and their machinery, never a constituent's data.
NOT_A_CONSTITUENTS: dict[str, tuple[str, ...]] = {
    # An office: its MLA, constituency, admin's email, greeting, numbers (the office's published DIDs).
    "platform.tenants": ("tenant_id", "status", "mla_name", "constituency", "state", "languages", "admin_email",
                         "admin_name", "greeting", "schema_name", "room_name", "sip_dispatch_rule_id",
                         "execution_arn", "error", "archived_schema", "retention", "mla_name_local",
                         "constituency_local"),
    "platform.tenant_phone_numbers": ("e164", "tenant_id"),
    "platform.provisioning_steps": ("tenant_id", "name", "status", "error", "output"),
    # The agents' configs: prompts, categories, the office's numbers.
    "platform.agent_configs": ("tenant_id", "config", "agent_id"),
    "platform.agent_routes_pending": ("tenant_id", "released_numbers", "removed_agents"),
    # Staff logins and their sessions and links (staff data, kept by identity/).
    "platform.users": ("tenant_id", "email", "role", "full_name"),
    "platform.revoked_sessions": ("session_id",),
    "platform.sign_in_links": ("purpose", "tenant_id", "email"),
    # The admin API's idempotent tenant creation: office data.
    "platform.idempotency_keys": ("scope", "key", "request_hash", "response"),
    # The records of exports and erasures: a keyed digest, never the number.
    "platform.privacy_requests": ("tenant_id", "kind", "subject_digest", "actor_type", "actor_id", "counts",
                                  "pending"),
    # The retention job's runs: counts by kind, and recordings' object keys (no number in them).
    "platform.retention_runs": ("tenant_id", "counts", "pending"),
    # db/migrate.py's bookkeeping, in every schema.
    "platform.schema_migrations": ("version", "name"),
    "schema_migrations": ("version", "name"),
}  # fmt: skip

FRESH = "tenant_pdmap00001"


def declared() -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for hook in personal_data():
        for table, columns in (*hook.columns.items(), *hook.not_personal.items()):
            found.update((table, column) for column in columns)
    for table, columns in NOT_A_CONSTITUENTS.items():
        found.update((table, column) for column in columns)
    return found


def test_every_text_and_json_column_belongs_to_exactly_one_declaration(stack: Any) -> None:
    with (
        psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row) as conn,
        conn.transaction(force_rollback=True),
    ):
        apply_to_schema(conn, FRESH, "tenant")  # type: ignore[arg-type]
        columns = text_columns(conn, FRESH, "platform")
    in_database = {
        (c["table_name"] if c["table_schema"] == FRESH else f"platform.{c['table_name']}", c["column_name"])
        for c in columns
    }
    counted = declared()

    assert sorted(in_database - set(counted)) == [], "undeclared: register them in the feature's personal_data.py"
    assert sorted(set(counted) - in_database) == [], "declared, but no such column"
    assert sorted(column for column, n in counted.items() if n > 1) == [], "declared more than once"
