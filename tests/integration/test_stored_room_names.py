"""Call rooms stored without the caller's number: Postgres's `platform.stored_room_name` names a room as
`core.names.stored_room_name` does, and the rows stored before (control 0007, tenant 0005) are renamed so
that they still meet their call: the webhooks' events, the complaints taken on it, the agent's keys."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from mla_core.adapters import get_services
from mla_core.calls import webhook_events
from mla_core.core.names import stored_room_name
from mla_core.db import Database
from mla_core.db.migrate import load_migrations, migrate_tenant

TENANT = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
SCHEMA = f"tenant_{TENANT}"
CALLER = "+919876543210"
SAMPLES = [
    f"mla-{TENANT}-call_{CALLER}_Kd8sYq2LmNpR",
    f"mla-{TENANT}-call_919876543210_Kd8sYq2LmNpR",
    f"mla-{TENANT}-call_+918044556677_a1b2c3d4e5f6",
    f"mla-{TENANT}-call_+९१९८७६५४३२१०_Kd8sYq2LmNpR",  # not ASCII: hashed as UTF-8 by both
    f"mla-{TENANT}-call_",
    stored_room_name(f"mla-{TENANT}-call_{CALLER}_Kd8sYq2LmNpR"),  # already stored: unchanged
    f"mla-{TENANT}-test-4f2a",
    f"mla-{TENANT}",
    "sim-4f2a9c0b1d2e",
    "mla-ABCDE12345-call_+919876543210_x",  # not a tenant id: not ours, unchanged
    "",
]


@pytest.fixture
def db(stack: Any) -> Iterator[Database]:
    """The stack's database, with a tenant of this module's own: its schema, registration and webhook
    records go after the test."""
    database = get_services().db
    yield database
    with database.transaction() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute("DELETE FROM platform.webhook_events WHERE tenant_id = %s", (TENANT,))
        conn.execute("DELETE FROM platform.tenants WHERE tenant_id = %s", (TENANT,))


def register(conn: Any, status: str, *, archived_schema: str | None = None) -> None:
    """This module's tenant in the registry (its schema made by the test)."""
    conn.execute(
        "INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages, admin_email,"
        " schema_name, room_name, archived_schema)"
        " VALUES (%s, %s, 'M', 'C', 'Kerala', '{en}', 'r@example.in', %s, %s, %s)",
        (TENANT, status, SCHEMA, f"mla-{TENANT}", archived_schema),
    )


def test_python_and_postgres_make_the_same_stored_room_name(db: Database) -> None:
    with db.transaction() as conn:
        found = [conn.execute("SELECT platform.stored_room_name(%s) AS s", (room,)).fetchone()["s"] for room in SAMPLES]
    assert found == [stored_room_name(room) for room in SAMPLES]
    assert all("9876543210" not in name for name in found[:2])


def test_rows_stored_before_are_renamed_and_still_meet_their_call(db: Database) -> None:
    tenant = list(load_migrations("tenant"))
    before = [m for m in tenant if m.version < "0005"]
    room = f"mla-{TENANT}-call_{CALLER}_{secrets.token_hex(6)}"
    straggler = f"mla-{TENANT}-call_{CALLER}_{secrets.token_hex(6)}"  # the webhooks already wrote its stored row
    key = f"{room}:log_complaint:{secrets.token_hex(12)}"
    old_event, new_event = f"EV_{secrets.token_hex(8)}", f"EV_{secrets.token_hex(8)}"
    with db.transaction() as conn:
        register(conn, "active")
        conn.execute(
            "INSERT INTO platform.webhook_events (id, event, room_name, tenant_id) VALUES (%s, 'room_started', %s, %s)",
            (old_event, room, TENANT),
        )
    migrate_tenant(db, SCHEMA, before)
    t = sql.Identifier
    with db.transaction() as conn:
        call_id = conn.execute(
            sql.SQL(
                "INSERT INTO {}.calls (room_name, caller_number, status, outcome, started_at, transcript)"
                " VALUES (%s, %s, 'completed', 'complaint_logged', now() - interval '5 minutes', %s) RETURNING id"
            ).format(t(SCHEMA)),
            (room, CALLER, Jsonb([{"text": "hi"}])),
        ).fetchone()["id"]
        complaint = conn.execute(
            sql.SQL(
                "INSERT INTO {}.complaints (reference, idempotency_key, category, description, caller_number, room_name,"
                " call_id) VALUES (1, %s, 'water', 'No water', %s, %s, %s) RETURNING id"
            ).format(t(SCHEMA)),
            (key, CALLER, room, call_id),
        ).fetchone()["id"]
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.complaint_events (complaint_id, event_type, actor_type, actor_id)"
                " VALUES (%s, 'created', 'agent', %s), (%s, 'note', 'user', 'staff-1')"
            ).format(t(SCHEMA)),
            (complaint, room, complaint),
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {0}.calls (room_name, caller_number, status, outcome, transcript, ended_at)"
                " VALUES (%s, %s, 'completed', 'no_complaint', %s, NULL),"
                " (%s, %s, 'in_progress', NULL, '[]', now())"
            ).format(t(SCHEMA)),
            (straggler, CALLER, Jsonb([{"text": "agent"}]), stored_room_name(straggler), CALLER),
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.complaints (reference, idempotency_key, category, description) VALUES (2, %s, 'x', 'y')"
            ).format(t(SCHEMA)),
            ("manual:staff-1:abc",),
        )

    assert migrate_tenant(db, SCHEMA) == [m.version for m in tenant if m.version >= "0005"]
    with db.transaction() as conn:  # the platform's rows, as control 0007 renames them
        conn.execute(next(m.sql for m in load_migrations("control") if m.version == "0007"))

    stored = stored_room_name(room)
    with db.transaction() as conn:
        calls = conn.execute(sql.SQL("SELECT * FROM {}.calls ORDER BY room_name").format(t(SCHEMA))).fetchall()
        complaints = conn.execute(
            sql.SQL("SELECT * FROM {}.complaints ORDER BY reference").format(t(SCHEMA))
        ).fetchall()
        actors = conn.execute(
            sql.SQL("SELECT actor_id FROM {}.complaint_events ORDER BY id").format(t(SCHEMA))
        ).fetchall()
        [recorded] = conn.execute(
            "SELECT room_name FROM platform.webhook_events WHERE id = %s", (old_event,)
        ).fetchall()
        joined = conn.execute(
            sql.SQL("SELECT c.id FROM {0}.calls c JOIN {0}.complaints x ON x.room_name = c.room_name").format(t(SCHEMA))
        ).fetchall()
    assert sorted(c["room_name"] for c in calls) == sorted([stored, stored_room_name(straggler)])
    [merged] = [c for c in calls if c["room_name"] == stored_room_name(straggler)]
    assert (merged["outcome"], merged["status"], merged["transcript"]) == (
        "no_complaint",
        "completed",
        [{"text": "agent"}],
    )
    assert merged["ended_at"] is not None
    assert complaints[0]["room_name"] == stored and complaints[0]["call_id"] == call_id
    assert complaints[0]["idempotency_key"] == stored + key[len(room) :]
    assert complaints[1]["idempotency_key"] == "manual:staff-1:abc"
    assert [a["actor_id"] for a in actors] == [stored, "staff-1"] and recorded["room_name"] == stored
    assert [j["id"] for j in joined] == [call_id]

    # The call's next webhook event, named by LiveKit as before, folds into the renamed row.
    event = webhook_events.parse_event(
        {"id": new_event, "event": "room_finished", "room_name": room, "created_at": int(time.time())}
    )
    assert webhook_events.ingest(db, event, purge_chance=0).outcome == "applied"
    with db.transaction() as conn:
        row: dict[str, Any] = conn.execute(
            sql.SQL("SELECT * FROM {}.calls WHERE id = %s").format(t(SCHEMA)), (call_id,)
        ).fetchone()
    assert row["room_name"] == stored and row["ended_at"] is not None and row["outcome"] == "complaint_logged"


def test_a_deprovisioned_offices_archive_is_renamed_too(db: Database) -> None:
    """Tenant migrations skip archives: control 0010 renames the rooms of offices archived before 0005."""
    archive = f"archived_tenant_{TENANT}"
    room = f"mla-{TENANT}-call_{CALLER}_{secrets.token_hex(6)}"
    key = f"{room}:log_complaint:{secrets.token_hex(12)}"
    migrate_tenant(db, SCHEMA, [m for m in load_migrations("tenant") if m.version < "0005"])
    t = sql.Identifier
    with db.transaction() as conn:
        register(conn, "deleted", archived_schema=archive)
        call_id = conn.execute(
            sql.SQL("INSERT INTO {}.calls (room_name, caller_number) VALUES (%s, %s) RETURNING id").format(t(SCHEMA)),
            (room, CALLER),
        ).fetchone()["id"]
        complaint = conn.execute(
            sql.SQL(
                "INSERT INTO {}.complaints (reference, idempotency_key, category, description, room_name, call_id)"
                " VALUES (1, %s, 'water', 'No water', %s, %s) RETURNING id"
            ).format(t(SCHEMA)),
            (key, room, call_id),
        ).fetchone()["id"]
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.complaint_events (complaint_id, event_type, actor_type, actor_id)"
                " VALUES (%s, 'created', 'agent', %s)"
            ).format(t(SCHEMA)),
            (complaint, room),
        )
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(t(SCHEMA), t(archive)))
    try:
        with db.transaction() as conn:
            conn.execute("SET LOCAL search_path TO platform, public")
            conn.execute(next(m.sql for m in load_migrations("control") if m.version == "0010"))
        with db.transaction() as conn:
            names = conn.execute(
                sql.SQL(
                    "SELECT c.room_name AS call, x.room_name AS complaint, x.idempotency_key AS key, e.actor_id AS actor"
                    " FROM {0}.calls c JOIN {0}.complaints x ON x.call_id = c.id"
                    " JOIN {0}.complaint_events e ON e.complaint_id = x.id"
                ).format(t(archive))
            ).fetchone()
    finally:
        with db.transaction() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(t(archive)))
    stored = stored_room_name(room)
    assert (names["call"], names["complaint"], names["actor"]) == (stored, stored, stored)
    assert names["key"] == stored + key[len(room) :]
