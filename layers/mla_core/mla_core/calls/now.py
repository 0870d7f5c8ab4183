"""The office's calls in progress ("calls now" on the dashboard): answered, not ended, in their
language, oldest first. A call whose end never reached us stops counting after the longest call
LiveKit keeps a room for (2 h here)."""

from __future__ import annotations

from datetime import datetime

from psycopg import sql
from pydantic import BaseModel

from mla_core.adapters import Services
from mla_core.core.names import schema_name

LONGEST_CALL_HOURS = 2
CALLS_NOW_LIMIT = 50


class CallNow(BaseModel):
    """A call in progress as the office sees it: no caller's number (the page shows none)."""

    room_name: str
    language: str | None
    answered_at: datetime


def calls_in_progress(services: Services, tenant_id: str) -> list[CallNow]:
    query = sql.SQL(
        "SELECT room_name, language, answered_at FROM {} WHERE status = 'in_progress'"
        " AND answered_at IS NOT NULL AND ended_at IS NULL"
        " AND answered_at > now() - make_interval(hours => %(hours)s)"
        " ORDER BY answered_at LIMIT %(limit)s"
    ).format(sql.Identifier(schema_name(tenant_id), "calls"))
    with services.db.transaction() as conn:
        rows = conn.execute(query, {"hours": LONGEST_CALL_HOURS, "limit": CALLS_NOW_LIMIT}).fetchall()
    return [CallNow.model_validate(row) for row in rows]
