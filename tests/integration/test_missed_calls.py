"""Calls missed while the office's agent was paused (issue 15, item 9): what the agents page counts and
lists, read from the call records the agent keeps, through the partial index tenant migration 0008 made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from mla_core.adapters import get_services
from mla_core.calls import missed
from mla_core.calls.records import CallRecord, store_call_record
from mla_core.core.names import schema_name
from support import Api, tenant_body, unique_number


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.create_tenant(admin_token, tenant_body(languages=["ta", "en"]))


def _call(tenant_id: str, caller: str | None, *, outcome: str, status: str, days_ago: float) -> None:
    started = datetime.now(UTC) - timedelta(days=days_ago)
    record = CallRecord(
        tenant_id=tenant_id,
        room_name=f"mla-{tenant_id}-call_{unique_number()[-8:]}",
        caller_number=caller,
        dialed_number="+914440001234",
        language="ta",
        status=status,  # type: ignore[arg-type]
        outcome=outcome,
        started_at=started,
        ended_at=started + timedelta(seconds=9),
    )
    store_call_record(get_services(), tenant_id, record)


def test_the_calls_missed_while_paused_are_counted_and_listed_newest_first_for_30_days(
    office: dict[str, Any], stack: Any
) -> None:
    tenant_id = office["tenant_id"]
    first, second = unique_number(), unique_number()
    _call(tenant_id, first, outcome="agent_paused", status="missed", days_ago=2)
    _call(tenant_id, None, outcome="agent_paused", status="missed", days_ago=1)  # a hidden number
    _call(tenant_id, second, outcome="agent_paused", status="missed", days_ago=0.1)
    _call(tenant_id, unique_number(), outcome="agent_paused", status="missed", days_ago=31)  # too old
    _call(tenant_id, unique_number(), outcome="complaint_logged", status="completed", days_ago=1)  # answered

    found = missed.missed_while_paused(get_services(), tenant_id)

    assert (found.days, found.count) == (30, 3)
    assert [call.caller_number for call in found.latest] == [second, None, first]

    calls = sql.Identifier(schema_name(tenant_id), "calls")
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")  # a handful of rows: the planner would rather read them all
        explained = conn.execute(sql.SQL("EXPLAIN SELECT * FROM {} WHERE outcome = 'agent_paused'").format(calls))
        assert "calls_paused_idx" in " ".join(str(row[0]) for row in explained.fetchall())
