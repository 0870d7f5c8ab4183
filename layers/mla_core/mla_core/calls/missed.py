"""Calls missed while the office's agent was paused: the agent says so to the caller, hangs up and
keeps the call as `missed` with the outcome `agent_paused` (`agent_pool.call._paused`); the agents
page shows how many and which, so the office can call them back."""

from __future__ import annotations

from datetime import datetime

from psycopg import sql
from pydantic import BaseModel

from mla_core.adapters import Services
from mla_core.core.names import schema_name

PAUSED_OUTCOME = "agent_paused"
MISSED_WINDOW_DAYS = 30  # what the page counts and lists
MISSED_LIST_LIMIT = 50


class MissedCall(BaseModel):
    caller_number: str | None  # None: a hidden number, or one erased since
    dialed_number: str | None
    started_at: datetime


class MissedCalls(BaseModel):
    """The calls missed while paused in the last `days` days: how many, and the latest of them."""

    days: int
    count: int
    latest: list[MissedCall]


def missed_while_paused(services: Services, tenant_id: str, *, days: int = MISSED_WINDOW_DAYS) -> MissedCalls:
    calls = sql.Identifier(schema_name(tenant_id), "calls")
    # The outcome as a literal, so that every plan (a generic one too) can use the partial index
    # `calls_paused_idx` (tenant migration 0008).
    since = sql.SQL("outcome = {} AND started_at > now() - make_interval(days => %(days)s)").format(
        sql.Literal(PAUSED_OUTCOME)
    )
    values = {"days": days, "limit": MISSED_LIST_LIMIT}
    with services.db.transaction() as conn:
        count = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE {}").format(calls, since), values).fetchone()
        rows = conn.execute(
            sql.SQL(
                "SELECT caller_number, dialed_number, started_at FROM {} WHERE {}"
                " ORDER BY started_at DESC LIMIT %(limit)s"
            ).format(calls, since),
            values,
        ).fetchall()
    return MissedCalls(days=days, count=count["n"] if count else 0, latest=[MissedCall(**row) for row in rows])
