"""Two complaints marked duplicates of each other at the same moment (issue 12, item 12): the rows
are locked in one order, so the second change waits for the first and gets the rules' answer (409)
instead of a deadlock's retryable 503."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql
from test_dashboard_complaints import log, office

from support import Api


@pytest.fixture(scope="module")
def tenant(api: Api, admin_token: str) -> dict[str, Any]:
    return office(api, admin_token)


def _crossed(api: Api, stack: Any, tenant: dict[str, Any], run: int) -> dict[int, int]:
    """A marked a duplicate of B while B is marked a duplicate of A: both requests are held behind
    a third transaction that has both rows, until each has taken the first lock it asks for; then
    they go on together, which is when crossed locks deadlock. The status each request got, by
    the reference it changed."""
    first, _ = log(tenant["tenant_id"], f"crossed-{run}-a")
    second, _ = log(tenant["tenant_id"], f"crossed-{run}-b")
    ids = {
        ref: api.request("GET", f"/api/complaints/{ref}", tenant["token"]).json()["data"]["id"]
        for ref in (first, second)
    }
    complaints = sql.Identifier(f"tenant_{tenant['tenant_id']}", "complaints")
    statuses: dict[int, int] = {}

    def mark(this: int, original: int) -> None:
        body = {"version": 1, "status": "duplicate", "duplicate_of": str(ids[original])}
        statuses[this] = api.request("PATCH", f"/api/complaints/{this}", tenant["token"], json=body).status_code

    with (
        psycopg.connect(stack.env["DATABASE_URL"]) as blocker,
        psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as watcher,
    ):
        blocker.execute(
            sql.SQL("SELECT 1 FROM {} WHERE id = ANY(%s) FOR UPDATE").format(complaints), (list(ids.values()),)
        )
        threads = [threading.Thread(target=mark, args=pair) for pair in ((first, second), (second, first))]
        for thread in threads:
            thread.start()
        _wait_until_both_wait_for_a_lock(watcher)
        blocker.rollback()
        for thread in threads:
            thread.join()
    return statuses


def _wait_until_both_wait_for_a_lock(watcher: psycopg.Connection[Any], timeout: float = 30) -> None:
    """Both requests are in their transaction, each waiting for a row lock (on the blocker's rows, or
    in line behind the other for the same row)."""
    deadline = time.monotonic() + timeout
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_type = 'client backend'"
    while (row := watcher.execute(waiting).fetchone()) is not None and row[0] < 2:
        assert time.monotonic() < deadline, "the two requests never reached their row locks"
        time.sleep(0.02)


@pytest.mark.parametrize("run", range(3))
def test_crossed_duplicates_wait_for_each_other_instead_of_deadlocking(
    run: int, api: Api, stack: Any, tenant: dict[str, Any]
) -> None:
    statuses = _crossed(api, stack, tenant, run)
    assert sorted(statuses.values()) == [200, 409]  # the second read a version the first had moved on

    (merged,) = [ref for ref, status in statuses.items() if status == 200]
    (other,) = [ref for ref, status in statuses.items() if status == 409]
    fresh = api.request("GET", f"/api/complaints/{other}", tenant["token"]).json()["data"]
    merged_id = api.request("GET", f"/api/complaints/{merged}", tenant["token"]).json()["data"]["id"]
    body = {"version": fresh["version"], "status": "duplicate", "duplicate_of": merged_id}
    again = api.request("PATCH", f"/api/complaints/{other}", tenant["token"], json=body)
    assert again.status_code == 409  # and sent again at its new version: a duplicate names no duplicate
    assert again.json()["error"]["details"][0]["reason"] == "is_duplicate"
