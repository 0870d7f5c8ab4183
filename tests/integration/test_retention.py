"""Retention removes only what has expired: each case has a row just past its office's days and a twin
just inside them, backdated with SQL; only the first changes, and the office's statistics do not."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from local_stack.template import ROOT, function
from mla_core import cli
from mla_core.adapters import get_services
from mla_core.calls.personal_data import CLOSED_STATUSES
from mla_core.complaints import lifecycle
from mla_core.complaints.personal_data import ERASED_TEXT
from mla_core.complaints.stats import summary
from mla_core.db.migrate import apply_to_schema
from mla_core.privacy.retention import apply_retention
from support import Api, Inspector, invoke_lambda, tenant_body, unique_number

DAY = timedelta(days=1)
TRANSCRIPT = [{"role": "user", "text": "no water for three days"}]


def run_sql(stack: Any, query: str, *params: Any, schema: str = "") -> list[dict[str, Any]]:
    composed = sql.SQL(query).format(schema=sql.Identifier(schema)) if schema else query  # type: ignore[arg-type]
    with psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row, autocommit=True) as conn:
        cursor = conn.execute(composed, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


class Office:
    """Backdated rows in one office's schema."""

    def __init__(self, stack: Any, tenant_id: str, token: str) -> None:
        self.stack, self.tenant_id, self.schema, self.token = stack, tenant_id, f"tenant_{tenant_id}", token

    def sql(self, query: str, *params: Any) -> list[dict[str, Any]]:
        return run_sql(self.stack, query, *params, schema=self.schema)

    def call(self, ended_ago: timedelta) -> uuid.UUID:
        at = datetime.now(UTC) - ended_ago
        room = f"mla-{self.tenant_id}-call_{unique_number()}_{uuid.uuid4().hex[:8]}"
        return self.sql(
            "INSERT INTO {schema}.calls (room_name, caller_number, status, transcript, recording_url, started_at,"
            " ended_at, created_at) VALUES (%s, %s, 'completed', %s, %s, %s, %s, %s) RETURNING id",
            room,
            unique_number(),
            Jsonb(TRANSCRIPT),
            f"recordings/{room}.ogg",
            at,
            at,
            at,
        )[0]["id"]

    def complaint(self, *, closed_ago: timedelta | None, call_id: uuid.UUID | None = None) -> uuid.UUID:
        closed = datetime.now(UTC) - closed_ago if closed_ago is not None else None
        return self.sql(
            "INSERT INTO {schema}.complaints (reference, category, description, location, landmark, caller_name,"
            " caller_number, callback_number, status, call_id, idempotency_key, created_at, resolved_at, closed_at,"
            " updated_at) VALUES (%s, 'water', 'No water for three days', 'Ward 12', 'near the temple', 'Murugan',"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            int(uuid.uuid4().int % 10**12),
            unique_number(),
            unique_number(),
            "closed" if closed else "in_progress",
            call_id,
            f"manual-{uuid.uuid4().hex}",
            (closed or datetime.now(UTC)) - 30 * DAY,
            closed,
            closed,
            closed or datetime.now(UTC),
        )[0]["id"]

    def sms(self, sent_ago: timedelta) -> uuid.UUID:
        at = datetime.now(UTC) - sent_ago
        return self.sql(
            "INSERT INTO {schema}.notifications (channel, recipient, purpose, body, status, created_at, sent_at)"
            " VALUES ('sms', %s, 'status_update', 'Your complaint 123 is resolved', 'sent', %s, %s) RETURNING id",
            unique_number(),
            at,
            at,
        )[0]["id"]

    def row(self, table: str, row_id: uuid.UUID) -> dict[str, Any]:
        query = sql.SQL("SELECT * FROM {} WHERE id = %s").format(sql.Identifier(self.schema, table))
        with psycopg.connect(self.stack.env["DATABASE_URL"], row_factory=dict_row, autocommit=True) as conn:
            found = conn.execute(query, (row_id,)).fetchone()
        assert found is not None
        return found

    def statistics(self) -> tuple[Any, ...]:
        grouped = self.sql(
            "SELECT status, category, count(*) AS n FROM {schema}.complaints GROUP BY 1, 2 ORDER BY 1, 2"
        )
        return summary(get_services(), self.tenant_id), grouped


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str, stack: Any) -> Office:
    made = api.office_admin(admin_token, tenant_body())
    return Office(stack, made["tenant_id"], made["token"])


def panel_page(api: Api, admin_token: str, tenant_id: str) -> str:
    page = api.http.get(f"/admin/panel/tenants/{tenant_id}", headers={"cookie": f"mla_session={admin_token}"})
    assert page.status_code == 200, page.text
    return page.text


def test_the_calls_closed_statuses_are_every_status_but_the_open_ones() -> None:
    assert set(CLOSED_STATUSES) == set(lifecycle.STATUSES) - set(lifecycle.OPEN)


def test_only_what_is_past_its_days_is_removed_and_a_dry_run_says_so_first(office: Office) -> None:
    old_call, young_call = office.call(400 * DAY), office.call(400 * DAY)
    office.complaint(closed_ago=366 * DAY, call_id=old_call)
    office.complaint(closed_ago=364 * DAY, call_id=young_call)
    still_open = office.call(400 * DAY)
    office.complaint(closed_ago=400 * DAY, call_id=still_open)
    office.complaint(closed_ago=None, call_id=still_open)
    unlinked, unlinked_young = office.call(91 * DAY), office.call(89 * DAY)
    expired, kept = office.complaint(closed_ago=1096 * DAY), office.complaint(closed_ago=1094 * DAY)
    old_sms, young_sms = office.sms(181 * DAY), office.sms(179 * DAY)
    before = {
        "calls": {c: office.row("calls", c) for c in (old_call, young_call, still_open, unlinked, unlinked_young)},
        "complaints": {c: office.row("complaints", c) for c in (expired, kept)},
        "notifications": {s: office.row("notifications", s) for s in (old_sms, young_sms)},
    }
    statistics = office.statistics()
    now = datetime.now(UTC)

    dry = apply_retention(get_services(), now=now, dry_run=True, tenant_id=office.tenant_id)
    assert all(office.row(table, i) == row for table, rows in before.items() for i, row in rows.items())
    assert office.sql("SELECT * FROM platform.retention_runs WHERE tenant_id = %s", office.tenant_id) == []

    done = apply_retention(get_services(), now=now, tenant_id=office.tenant_id)

    [ran] = done.tenants
    assert ran.counts == dry.tenants[0].counts
    # The old call's complaint closed 366 days ago (transcripts: 365) and a 400-day-old complaint's
    # call also took an open one; an unlinked call ended 91 days ago (90); the office's own before both.
    assert ran.counts["transcripts"] == 1 and ran.counts["calls_without_complaint"] == 1
    assert ran.counts["recordings"] == 2 and sorted(ran.pending["objects"]) == sorted(
        before["calls"][c]["recording_url"] for c in (old_call, unlinked)
    )
    assert ran.counts["caller_details"] == 1 and ran.counts["sms"] == 1
    gone = office.row("calls", old_call)
    assert gone["transcript"] == [] and gone["recording_url"] is None
    assert gone["caller_number"] == before["calls"][old_call]["caller_number"]
    stripped = office.row("calls", unlinked)
    assert (stripped["caller_number"], stripped["transcript"], stripped["recording_url"]) == (None, [], None)
    assert stripped["ended_at"] == before["calls"][unlinked]["ended_at"]
    for call in (young_call, still_open, unlinked_young):
        assert office.row("calls", call) == before["calls"][call]

    anonymised = office.row("complaints", expired)
    assert anonymised["description"] == ERASED_TEXT and anonymised["erased_at"] is not None
    assert all(anonymised[c] is None for c in ("caller_name", "caller_number", "callback_number", "landmark"))
    assert anonymised["idempotency_key"] is None
    for fact in ("reference", "category", "status", "location", "created_at", "resolved_at", "closed_at"):
        assert anonymised[fact] == before["complaints"][expired][fact]
    assert office.row("complaints", kept) == before["complaints"][kept]
    sms = office.row("notifications", old_sms)
    assert (sms["recipient"], sms["body"], sms["status"]) == (None, "", "sent")
    assert office.row("notifications", young_sms) == before["notifications"][young_sms]
    assert office.statistics() == statistics

    again = apply_retention(get_services(), now=now, tenant_id=office.tenant_id)
    assert not any(again.tenants[0].counts.values())
    runs = office.sql(
        "SELECT counts FROM platform.retention_runs WHERE tenant_id = %s ORDER BY ran_at", office.tenant_id
    )
    assert [r["counts"] for r in runs] == [ran.counts, again.tenants[0].counts]


def test_webhook_records_go_after_seven_days(stack: Any, office: Office) -> None:
    ids = {age: f"EV_{uuid.uuid4().hex[:12]}" for age in (8, 6)}
    for age, event_id in ids.items():
        run_sql(
            stack,
            "INSERT INTO platform.webhook_events (id, event, room_name, tenant_id, received_at)"
            " VALUES (%s, 'room_started', %s, %s, now() - %s)",
            event_id,
            f"mla-{office.tenant_id}-call_{event_id}",
            office.tenant_id,
            timedelta(days=age),
        )
    now = datetime.now(UTC)
    dry = apply_retention(get_services(), now=now, dry_run=True, tenant_id=office.tenant_id)
    report = apply_retention(get_services(), now=now, tenant_id=office.tenant_id)

    left = {
        r["id"] for r in run_sql(stack, "SELECT id FROM platform.webhook_events WHERE id = ANY(%s)", list(ids.values()))
    }
    assert left == {ids[6]}
    assert report.webhook_events >= 1 and dry.webhook_events == report.webhook_events


def archived_office(stack: Any, deprovisioned_ago: timedelta) -> tuple[str, str]:
    """A deprovisioned office (as `provisioning.deprovision` leaves one) with its archived schema."""
    tenant_id = uuid.uuid4().hex[:10]
    schema = f"archived_tenant_{tenant_id}"
    with psycopg.connect(stack.env["DATABASE_URL"], row_factory=dict_row) as conn:
        conn.execute(
            "INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages, admin_email,"
            " schema_name, room_name, archived_schema, deleted_at) VALUES (%s, 'deleted', 'K. Selvi', 'Mylapore',"
            " 'Tamil Nadu', '{ta}', %s, %s, %s, %s, now() - %s)",
            (
                tenant_id,
                f"gone{tenant_id}@selvi.example.in",
                f"tenant_{tenant_id}",
                f"mla-{tenant_id}",
                schema,
                deprovisioned_ago,
            ),
        )
        apply_to_schema(conn, schema, "tenant")  # type: ignore[arg-type]
    return tenant_id, schema


def test_an_archive_past_its_days_is_dropped_and_one_within_them_is_reported_due(
    stack: Any, api: Api, admin_token: str
) -> None:
    past, past_schema = archived_office(stack, 366 * DAY)
    due, due_schema = archived_office(stack, 350 * DAY)
    now = datetime.now(UTC)

    dry = apply_retention(get_services(), now=now, dry_run=True, tenant_id=past)
    assert dry.tenants[0].archive_dropped and Inspector(stack.env).schema_exists(past_schema)
    dropped = apply_retention(get_services(), now=now, tenant_id=past)
    kept = apply_retention(get_services(), now=now, tenant_id=due)

    assert dropped.tenants[0].archive_dropped and not Inspector(stack.env).schema_exists(past_schema)
    [row] = run_sql(
        stack, "SELECT archived_schema, archive_dropped_at FROM platform.tenants WHERE tenant_id = %s", past
    )
    assert row["archived_schema"] is None and row["archive_dropped_at"] is not None
    assert Inspector(stack.env).schema_exists(due_schema) and not kept.tenants[0].archive_dropped
    drop_at = (now - 350 * DAY + 365 * DAY).date()
    assert kept.tenants[0].archive_drop_due == drop_at
    assert kept.summary()["archives_due"] == {due: drop_at.isoformat()}
    shown = api.request("GET", f"/admin/tenants/{due}/retention", admin_token).json()["data"]
    assert shown["archive_drop_at"] == drop_at.isoformat() and shown["last_run_at"]
    page = panel_page(api, admin_token, due)
    assert f'data-testid="archive-drop-at">{drop_at.isoformat()}' in page and "Export it before then" in page
    assert f"pg_dump --schema={due_schema}" in page
    assert apply_retention(get_services(), now=now, tenant_id=past).tenants == []


def test_an_offices_own_days_take_effect_and_out_of_bounds_is_refused(
    office: Office, api: Api, admin_token: str
) -> None:
    path = f"/admin/tenants/{office.tenant_id}/retention"
    refused = api.request("PUT", path, admin_token, json={"transcripts_after_close": 10})
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["transcripts_after_close"]
    assert api.request("PUT", path, admin_token, json={"holidays": 30}).status_code == 422
    assert api.request("GET", path).status_code == 401

    put = api.request("PUT", path, admin_token, json={"transcripts_after_close": 30})
    assert put.status_code == 200, put.text
    data = put.json()["data"]
    assert data["overrides"] == {"transcripts_after_close": 30}
    assert data["policy"]["transcripts_after_close"] == 30 and data["policy"]["sms_after_sent"] == 180
    call = office.call(60 * DAY)
    office.complaint(closed_ago=40 * DAY, call_id=call)

    [ran] = apply_retention(get_services(), now=datetime.now(UTC), tenant_id=office.tenant_id).tenants

    assert office.row("calls", call)["transcript"] == [] and ran.counts["transcripts"] >= 1
    privacy_page = api.http.get("/app/privacy", headers={"cookie": f"mla_session={office.token}"})
    assert "<td>30</td>" in privacy_page.text and "<td>1095</td>" in privacy_page.text
    panel = panel_page(api, admin_token, office.tenant_id)
    assert (
        "30 <span" in panel and "set for this office" in panel and f"transcripts {ran.counts['transcripts']}" in panel
    )
    assert api.request("PUT", path, admin_token, json={}).json()["data"]["overrides"] == {}


def test_the_cli_and_the_lambda_run_it(office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    unlinked = office.call(100 * DAY)
    at = (datetime.now(UTC) - 5 * DAY).isoformat()

    assert cli.main(["retention", "--tenant", office.tenant_id, "--dry-run", "--now", at]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] and printed["counts"]["calls_without_complaint"] == 1
    assert office.row("calls", unlinked)["transcript"] == TRANSCRIPT

    handler = function("RetentionFunction").load()
    event = json.loads((ROOT / "sam" / "events" / "schedule.json").read_text())
    summary_ = invoke_lambda(handler, event, "RetentionFunction")

    assert summary_["dry_run"] is False and summary_["tenants"] >= 1
    assert office.row("calls", unlinked)["transcript"] == []
