"""A hidden caller's callback number: kept apart from the caller's number, shown to staff, and moved
there for complaints logged before it had a column of its own (tenant migration 0004)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg import sql

from local_stack import aws
from mla_core.adapters import get_services
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import intake
from mla_core.complaints.intake import ComplaintDraft
from mla_core.db.migrate import load_migrations, migrate_tenant
from support import Api, tenant_body, unique_number

WATER = ComplaintDraft(category="water", description="No water for three days", location="Ward 12")


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))


def test_staff_see_a_hidden_callers_callback_number_apart_from_the_callers(api: Api, office: dict[str, Any]) -> None:
    services = get_services()
    config = load_agent_config(services, office["tenant_id"])
    assert config is not None
    callback = unique_number()
    logged = intake.log_complaint(
        services,
        config,
        WATER,
        idempotency_key="hidden-1",
        caller_number=None,
        callback_number=callback,
        language="en",
        room_name=None,
    )

    detail = api.request("GET", f"/api/complaints/{logged.reference}", office["token"]).json()["data"]
    assert (detail["caller_number"], detail["callback_number"]) == (None, callback)
    assert [n["recipient"] for n in detail["notifications"]] == [callback]
    assert [m["to"] for m in aws.sent_sms() if m["to"] == callback] == [callback]
    page = api.http.get(
        f"/app/complaints/{logged.reference}", headers={"cookie": f"mla_session={office['token']}"}
    ).text
    # A link to call it (E.164 in the href), apart from the caller's own number, which is hidden.
    assert f'href="tel:{callback}" dir="ltr" data-testid="callback-number">' in page
    assert 'data-testid="caller-number"' not in page
    # Whose complaint it is: nobody's number, so the callback number's own calls never hear it as theirs.
    assert intake.open_complaints(services, office["tenant_id"], callback) == []
    bare = intake.complaint_status(services, office["tenant_id"], logged.reference, callback)
    assert isinstance(bare, intake.ComplaintStatus) and bare.status == "new"
    assert "description" not in bare.model_dump()


def test_complaints_hidden_callers_logged_before_0004_move_to_the_callback_number(stack: Any) -> None:
    db = get_services().db
    schema = f"tenant_cbk{uuid.uuid4().hex[:7]}"  # no tenant's: a schema of its own, at 0003
    before = [m for m in load_migrations("tenant") if m.version < "0004"]
    migrate_tenant(db, schema, before)
    with db.transaction() as conn:
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("INSERT INTO calls (room_name, caller_number) VALUES ('hidden', NULL), ('seen', '+919000000002')")
        conn.execute(
            "INSERT INTO complaints (reference, category, description, caller_number, room_name, channel) VALUES"
            " (1, 'water', 'planted', '+919000000001', 'hidden', 'phone'),"
            " (2, 'water', 'own', '+919000000002', 'seen', 'phone'),"
            " (3, 'water', 'walk-in', '+919000000003', NULL, 'walk_in')"
        )

    assert migrate_tenant(db, schema) == [m.version for m in load_migrations("tenant") if m.version >= "0004"]

    with db.transaction() as conn:
        rows = conn.execute(
            sql.SQL("SELECT reference, caller_number, callback_number FROM {}.complaints ORDER BY reference").format(
                sql.Identifier(schema)
            )
        ).fetchall()
    assert [tuple(row.values()) for row in rows] == [
        (1, None, "+919000000001"),
        (2, "+919000000002", None),
        (3, "+919000000003", None),
    ]


def test_a_queued_hidden_callers_complaint_keeps_its_callback_number_and_whether_it_gets_an_sms(
    office: dict[str, Any],
) -> None:
    services = get_services()
    now = datetime.now(UTC)
    first, second = unique_number(), unique_number()
    for reference, number, with_sms in ((8_900_001, first, True), (8_900_002, second, False)):
        queued = intake.QueuedComplaint(
            tenant_id=office["tenant_id"],
            reference=reference,  # taken while Postgres was down, below Postgres's own range
            idempotency_key=f"queued-hidden-{reference}",
            category="water",
            description="No water for three days",
            location="Ward 12",
            callback_number=number,
            language="en",
            sla_due_at=now,
            created_at=now,
            sms_confirmation=with_sms,
        )
        again = intake.QueuedComplaint.model_validate_json(queued.model_dump_json())  # as SQS carries it
        assert intake.ingest_queued(services, again)

    assert [m["to"] for m in aws.sent_sms() if m["to"] in (first, second)] == [first]
    assert intake.open_complaints(services, office["tenant_id"], first) == []
