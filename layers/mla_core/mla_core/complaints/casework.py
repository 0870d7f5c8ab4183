"""The MLA office's work on complaints: find them, read them, move them through the lifecycle.

Every query is scoped to the caller's tenant schema (the tenant id comes from the verified token,
never from the request), and every identifier is composed with `psycopg.sql`.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mla_core.adapters import Services
from mla_core.agents.routing import load_agent_config
from mla_core.complaints import lifecycle, sms
from mla_core.core.errors import ConflictError, InvalidInputError, NotFoundError
from mla_core.core.names import main_agent_id, schema_name
from mla_core.core.principal import OfficeUser
from mla_core.db import Conn

DUE_SOON = timedelta(hours=48)
Sort = Literal["newest", "oldest", "sla_due"]

_COLUMNS = (
    "id", "reference", "status", "priority", "category", "description", "location", "landmark", "caller_name",
    "caller_number", "language", "channel", "assigned_to", "sla_due_at", "supporter_count", "duplicate_of",
    "transferred_to", "version", "created_at", "updated_at", "acknowledged_at", "resolved_at", "closed_at",
)  # fmt: skip


class ComplaintFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[Literal[lifecycle.STATUSES]] | None = None  # type: ignore[valid-type]
    category: Annotated[str, StringConstraints(max_length=60)] | None = None
    assigned_to: uuid.UUID | None = None
    language: Annotated[str, StringConstraints(max_length=8)] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sla: Literal["overdue", "due_soon"] | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    sort: Sort = "newest"
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, StringConstraints(max_length=300)] | None = None


def _t(tenant_id: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema_name(tenant_id)), sql.Identifier(table))


def _select(tenant_id: str) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in _COLUMNS)
    return sql.SQL("SELECT {columns}, (sla_due_at < now() AND status IN ({open})) AS overdue FROM {table}").format(
        columns=columns, open=sql.SQL(", ").join(map(sql.Literal, lifecycle.OPEN)), table=_t(tenant_id, "complaints")
    )


_ORDER = {
    "newest": (sql.SQL("created_at DESC, id DESC"), sql.SQL("(created_at, id) < (%s, %s)")),
    "oldest": (sql.SQL("created_at ASC, id ASC"), sql.SQL("(created_at, id) > (%s, %s)")),
    "sla_due": (
        sql.SQL("coalesce(sla_due_at, 'infinity') ASC, id ASC"),
        sql.SQL("(coalesce(sla_due_at, 'infinity'), id) > (%s, %s)"),
    ),
}


def _encode_cursor(sort: str, row: dict[str, Any]) -> str:
    key = row["sla_due_at"] if sort == "sla_due" else row["created_at"]
    raw = json.dumps([sort, key.isoformat() if key else "infinity", str(row["id"])])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    try:
        cursor_sort, key, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if cursor_sort != sort:
            raise ValueError("cursor belongs to another sort")
        return (key if key == "infinity" else datetime.fromisoformat(key)), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("cursor is not valid", details=[{"field": "cursor", "reason": str(exc)}]) from exc


def _where(filters: ComplaintFilters) -> tuple[list[sql.Composable], list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    if filters.status:
        clauses.append(sql.SQL("status = ANY(%s)"))
        params.append(list(filters.status))
    for column in ("category", "assigned_to", "language"):
        value = getattr(filters, column)
        if value is not None:
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if filters.created_from:
        clauses.append(sql.SQL("created_at >= %s"))
        params.append(filters.created_from)
    if filters.created_to:
        clauses.append(sql.SQL("created_at < %s"))
        params.append(filters.created_to)
    if filters.sla:
        open_statuses = sql.SQL(", ").join(map(sql.Literal, lifecycle.OPEN))
        if filters.sla == "overdue":
            clauses.append(sql.SQL("sla_due_at < now() AND status IN ({})").format(open_statuses))
        else:
            clauses.append(
                sql.SQL("sla_due_at >= now() AND sla_due_at < now() + %s AND status IN ({})").format(open_statuses)
            )
            params.append(DUE_SOON)
    if filters.q:
        clauses.append(sql.SQL("search @@ plainto_tsquery('simple', %s)"))
        params.append(filters.q)
    return clauses, params


def _where_sql(clauses: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")


def list_query(tenant_id: str, filters: ComplaintFilters) -> tuple[sql.Composed, list[Any]]:
    """The SQL of one page (one row more than the page, to know whether another follows)."""
    clauses, params = _where(filters)
    order, after = _ORDER[filters.sort]
    if filters.cursor:
        clauses.append(after)
        params.extend(_decode_cursor(filters.cursor, filters.sort))
    query = sql.SQL("{select}{where} ORDER BY {order} LIMIT %s").format(
        select=_select(tenant_id), where=_where_sql(clauses), order=order
    )
    return query, [*params, filters.limit + 1]


async def list_complaints(
    services: Services, tenant_id: str, filters: ComplaintFilters
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the office's complaints (on the event loop: the list is the hottest read)."""
    return _paged(await _fetch_all(services, *list_query(tenant_id, filters)), filters)


async def list_page(services: Services, tenant_id: str, filters: ComplaintFilters) -> dict[str, Any]:
    """What the dashboard's list page shows: a page of complaints and the filters' choices, read
    at the same time on two connections."""
    rows, [found] = await asyncio.gather(
        _fetch_all(services, *list_query(tenant_id, filters)),
        _fetch_all(services, _CHOICES, {"t": tenant_id, "main": main_agent_id(tenant_id)}),
    )
    items, next_cursor = _paged(rows, filters)
    return {"items": items, "next_cursor": next_cursor, "people": found["people"], "categories": found["categories"]}


async def _fetch_all(services: Services, query: Any, params: Any) -> list[dict[str, Any]]:
    async with services.db.read() as conn:
        return await (await conn.execute(query, params)).fetchall()


def _paged(rows: list[dict[str, Any]], filters: ComplaintFilters) -> tuple[list[dict[str, Any]], str | None]:
    """The page, and the cursor to the next when the query found one row more than a page."""
    next_cursor = _encode_cursor(filters.sort, rows[filters.limit - 1]) if len(rows) > filters.limit else None
    return rows[: filters.limit], next_cursor


_CHOICES = (
    "SELECT (SELECT coalesce(jsonb_object_agg(user_id::text, coalesce(full_name, email)), '{}')"
    "        FROM platform.users WHERE tenant_id = %(t)s AND NOT disabled) AS people,"
    "       (SELECT coalesce(jsonb_object_agg(c ->> 'code', c -> 'names'), '{}') FROM platform.agent_configs a,"
    "               jsonb_array_elements(a.config -> 'categories') c WHERE a.agent_id = %(main)s) AS categories"
)


def choices(services: Services, tenant_id: str) -> dict[str, Any]:
    """What the list's filters and the assignment offer: the office's active people by id and its
    main agent's categories (code → names by language)."""
    with services.db.transaction() as conn:
        row = conn.execute(_CHOICES, {"t": tenant_id, "main": main_agent_id(tenant_id)}).fetchone()
    assert row is not None
    return {"people": row["people"], "categories": row["categories"]}


def count_complaints(services: Services, tenant_id: str, filters: ComplaintFilters, *, cap: int) -> int:
    """How many complaints match the filters, counting no further than `cap`."""
    clauses, params = _where(filters)
    query = sql.SQL("SELECT count(*) AS n FROM (SELECT 1 FROM {table}{where} LIMIT %s) AS capped").format(
        table=_t(tenant_id, "complaints"), where=_where_sql(clauses)
    )
    with services.db.transaction() as conn:
        row = conn.execute(query, [*params, cap]).fetchone()
    return int(row["n"]) if row else 0


def export_rows(services: Services, tenant_id: str, filters: ComplaintFilters) -> Iterator[str]:
    """The filtered list as CSV lines, streamed from a server-side cursor: memory stays flat."""
    clauses, params = _where(filters)
    query = sql.SQL("{select}{where} ORDER BY {order}").format(
        select=_select(tenant_id), where=_where_sql(clauses), order=_ORDER[filters.sort][0]
    )
    header = [*_COLUMNS, "overdue"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(header)
    with services.db.transaction() as conn, conn.cursor(name="complaints_export") as cursor:
        cursor.itersize = 2000
        cursor.execute(query, params)
        for row in cursor:
            yield line([row[c] for c in header])


def _find(conn: Conn, tenant_id: str, id_or_reference: str, *, lock: bool = False) -> dict[str, Any]:
    """A complaint by id (UUID) or reference (digits); anything else, or absent, is not found."""
    value: int | uuid.UUID
    if id_or_reference.isdigit() and len(id_or_reference) <= 12:
        clause, value = sql.SQL("reference = %s"), int(id_or_reference)
    else:
        try:
            clause, value = sql.SQL("id = %s"), uuid.UUID(id_or_reference)
        except ValueError:
            raise NotFoundError("complaint not found") from None
    query = sql.SQL("{} WHERE {}{}").format(_select(tenant_id), clause, sql.SQL(" FOR UPDATE") if lock else sql.SQL(""))
    row = conn.execute(query, (value,)).fetchone()
    if row is None:
        raise NotFoundError("complaint not found")
    return row


def get_complaint(services: Services, tenant_id: str, id_or_reference: str) -> dict[str, Any]:
    """The complaint with its timeline, its call and its notifications."""
    with services.db.transaction() as conn:
        complaint = _find(conn, tenant_id, id_or_reference)
        complaint["timeline"] = conn.execute(
            sql.SQL(
                "SELECT event_type, from_status, to_status, actor_type, actor_id, note, data, created_at"
                " FROM {} WHERE complaint_id = %s ORDER BY id"
            ).format(_t(tenant_id, "complaint_events")),
            (complaint["id"],),
        ).fetchall()
        complaint["call"] = conn.execute(
            sql.SQL(
                "SELECT c.room_name, c.caller_number, c.dialed_number, c.language, c.status, c.outcome,"
                " c.started_at, c.ended_at, c.duration_seconds, c.transcript, c.recording_url"
                " FROM {calls} c JOIN {complaints} x ON x.room_name = c.room_name WHERE x.id = %s"
            ).format(calls=_t(tenant_id, "calls"), complaints=_t(tenant_id, "complaints")),
            (complaint["id"],),
        ).fetchone()
        complaint["notifications"] = conn.execute(
            sql.SQL(
                "SELECT channel, recipient, purpose, language, body, status, provider_message_id, attempts,"
                " last_error, created_at, sent_at FROM {} WHERE complaint_id = %s ORDER BY created_at"
            ).format(_t(tenant_id, "notifications")),
            (complaint["id"],),
        ).fetchall()
    return complaint


class ComplaintPatch(BaseModel):
    """A change to a complaint, made against the version the client saw."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1, description="the version you read (or send If-Match)")
    status: Literal[lifecycle.STATUSES] | None = None  # type: ignore[valid-type]
    assigned_to: uuid.UUID | None = None
    unassign: bool = False
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    category: Annotated[str, StringConstraints(max_length=60)] | None = None
    sla_due_at: datetime | None = None
    duplicate_of: Annotated[str, StringConstraints(max_length=40)] | None = None
    transferred_to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None


def _event(conn: Conn, tenant_id: str, complaint_id: Any, who: OfficeUser, event_type: str, **fields: Any) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (complaint_id, event_type, from_status, to_status, actor_type, actor_id, note, data)"
            " VALUES (%s, %s, %s, %s, 'user', %s, %s, %s)"
        ).format(_t(tenant_id, "complaint_events")),
        (complaint_id, event_type, fields.get("from_status"), fields.get("to_status"), who.user_id,
         fields.get("note"), Jsonb(fields.get("data") or {})),
    )  # fmt: skip


def _check_assignee(conn: Conn, tenant_id: str, user_id: uuid.UUID) -> None:
    row = conn.execute(
        "SELECT 1 FROM platform.users WHERE user_id = %s AND tenant_id = %s AND NOT disabled", (user_id, tenant_id)
    ).fetchone()
    if row is None:
        raise InvalidInputError(
            "assignee is not an active member of this office",
            details=[{"field": "assigned_to", "reason": "unknown_user"}],
        )


def update_complaint(
    services: Services, who: OfficeUser, id_or_reference: str, patch: ComplaintPatch, *, if_match: int | None
) -> dict[str, Any]:
    """Apply `patch` if the complaint is still at the version the client saw; every change is an event."""
    tenant_id = who.tenant_id
    expected = patch.version if patch.version is not None else if_match
    if expected is None:
        raise InvalidInputError(
            "send the version you read (field `version` or an If-Match header)",
            details=[{"field": "version", "reason": "required"}],
        )
    config = load_agent_config(services, tenant_id)
    with services.db.transaction() as conn:
        current = _find(conn, tenant_id, id_or_reference, lock=True)
        if current["version"] != expected:
            raise ConflictError(
                "someone else changed this complaint first; reload it and try again",
                details=[{"field": "version", "reason": "stale", "current_version": current["version"]}],
            )
        changes: dict[str, Any] = {}
        complaint_id = current["id"]
        if patch.status and patch.status != current["status"]:
            changes.update(_status_change(conn, tenant_id, current, patch, who))
        if patch.assigned_to or patch.unassign:
            assignee = None if patch.unassign else patch.assigned_to
            if assignee is not None:
                _check_assignee(conn, tenant_id, assignee)
            changes["assigned_to"] = assignee
            _event(
                conn,
                tenant_id,
                complaint_id,
                who,
                "assigned",
                data={"assigned_to": str(assignee) if assignee else None},
            )
        if patch.priority and patch.priority != current["priority"]:
            changes["priority"] = patch.priority
            _event(conn, tenant_id, complaint_id, who, "priority_changed", data={"priority": patch.priority})
        if patch.category and patch.category != current["category"]:
            if config is None or patch.category not in {c.code for c in config.categories}:
                raise InvalidInputError("unknown category", details=[{"field": "category", "reason": "unknown"}])
            changes["category"] = patch.category
            _event(conn, tenant_id, complaint_id, who, "category_changed", data={"category": patch.category})
        if patch.sla_due_at:
            changes["sla_due_at"] = patch.sla_due_at
            _event(conn, tenant_id, complaint_id, who, "sla_changed", data={"sla_due_at": patch.sla_due_at.isoformat()})
        if patch.note and not patch.status:
            _event(conn, tenant_id, complaint_id, who, "note", note=patch.note)
        if not changes and not patch.note:
            raise InvalidInputError("nothing to change", details=[{"field": "body", "reason": "empty"}])
        assignments = [sql.SQL("{} = %s").format(sql.Identifier(k)) for k in changes]
        conn.execute(
            sql.SQL("UPDATE {} SET {}version = version + 1, updated_at = now() WHERE id = %s").format(
                _t(tenant_id, "complaints"),
                sql.SQL("").join(a + sql.SQL(", ") for a in assignments),
            ),
            (*changes.values(), complaint_id),
        )
        updated = _find(conn, tenant_id, str(complaint_id))
    if config is not None and "status" in changes:
        sms.notify_status(services, config, updated, changes["status"])
    return get_complaint(services, tenant_id, str(complaint_id))


def _status_change(
    conn: Conn, tenant_id: str, current: dict[str, Any], patch: ComplaintPatch, who: OfficeUser
) -> dict[str, Any]:
    to, frm = patch.status, current["status"]
    if to not in lifecycle.allowed(frm):
        raise ConflictError(
            f"a {frm} complaint cannot become {to}",
            details=[{"field": "status", "reason": "invalid_transition", "allowed": list(lifecycle.allowed(frm))}],
        )
    changes: dict[str, Any] = {"status": to}
    now = datetime.now(UTC)
    if to == "acknowledged":
        changes["acknowledged_at"] = now
    elif to == "resolved":
        changes["resolved_at"] = now
    elif to == "closed":
        changes["closed_at"] = now
    elif to == "reopened":
        changes.update(resolved_at=None, closed_at=None)
    elif to == "duplicate":
        if not patch.duplicate_of:
            raise InvalidInputError(
                "say which complaint this duplicates", details=[{"field": "duplicate_of", "reason": "required"}]
            )
        original = _find(conn, tenant_id, patch.duplicate_of, lock=True)
        if original["id"] == current["id"]:
            raise InvalidInputError(
                "a complaint cannot duplicate itself", details=[{"field": "duplicate_of", "reason": "self"}]
            )
        changes["duplicate_of"] = original["id"]
        conn.execute(
            sql.SQL("UPDATE {} SET supporter_count = supporter_count + 1, version = version + 1, updated_at = now()"
                    " WHERE id = %s").format(_t(tenant_id, "complaints")),
            (original["id"],),
        )  # fmt: skip
        _event(conn, tenant_id, original["id"], who, "duplicate_linked", data={"duplicate": str(current["id"])})
    elif to == "transferred":
        if not patch.transferred_to or not patch.note:
            raise InvalidInputError(
                "a transfer needs the authority it goes to and a note",
                details=[
                    {"field": f, "reason": "required"} for f in ("transferred_to", "note") if not getattr(patch, f)
                ],
            )
        changes["transferred_to"] = patch.transferred_to
    _event(conn, tenant_id, current["id"], who, "status_changed", from_status=frm, to_status=to, note=patch.note)
    return changes


def add_note(services: Services, who: OfficeUser, id_or_reference: str, text: str) -> dict[str, Any]:
    with services.db.transaction() as conn:
        complaint = _find(conn, who.tenant_id, id_or_reference)
        _event(conn, who.tenant_id, complaint["id"], who, "note", note=text)
    return get_complaint(services, who.tenant_id, str(complaint["id"]))


def stats(services: Services, tenant_id: str) -> dict[str, Any]:
    """Counts by status, category and day (30 days), overdue, median time to resolve (90 days).

    One grouped pass gives the status, category, total and overdue counts (an index-only scan of
    `complaints_counts_idx`); the median looks at the last 90 days of resolutions only.
    """
    complaints = _t(tenant_id, "complaints")
    with services.db.transaction() as conn:
        groups = conn.execute(
            sql.SQL(
                "SELECT status, category, count(*) AS n, count(*) FILTER (WHERE sla_due_at < now()) AS late"
                " FROM {} GROUP BY status, category"
            ).format(complaints)
        ).fetchall()
        by_day = conn.execute(
            sql.SQL(
                "SELECT (created_at AT TIME ZONE 'Asia/Kolkata')::date AS day, count(*) AS n FROM {}"
                " WHERE created_at >= now() - interval '30 days' GROUP BY 1 ORDER BY 1"
            ).format(complaints)
        ).fetchall()
        median = conn.execute(
            sql.SQL(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at))"
                " AS seconds FROM {} WHERE resolved_at >= now() - interval '90 days'"
            ).format(complaints)
        ).fetchone()
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for group in groups:
        by_status[group["status"]] = by_status.get(group["status"], 0) + group["n"]
        by_category[group["category"]] = by_category.get(group["category"], 0) + group["n"]
    seconds = median["seconds"] if median else None
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_category": by_category,
        "by_day": [{"day": r["day"].isoformat(), "count": r["n"]} for r in by_day],
        "overdue": sum(g["late"] for g in groups if g["status"] in lifecycle.OPEN),
        "median_hours_to_resolve_90d": round(seconds / 3600, 1) if seconds is not None else None,
    }


def overdue_trend(services: Services, tenant_id: str, days: int = 30) -> list[dict[str, Any]]:
    """How many complaints were overdue at the end of each of the last `days` days (IST): past their
    SLA date and not yet resolved or closed then (duplicates and transfers left out)."""
    query = sql.SQL(
        "SELECT d.day, count(c.id) AS n FROM ("
        "  SELECT day::date AS day, (day + interval '1 day') AT TIME ZONE 'Asia/Kolkata' AS day_end"
        "  FROM generate_series((now() AT TIME ZONE 'Asia/Kolkata')::date - %s, (now() AT TIME ZONE 'Asia/Kolkata')::date,"
        "                       interval '1 day') AS day) d"
        " LEFT JOIN {complaints} c ON c.sla_due_at < d.day_end AND c.created_at < d.day_end"
        "  AND coalesce(c.resolved_at, c.closed_at, 'infinity') >= d.day_end"
        "  AND c.status NOT IN ('duplicate', 'transferred')"
        " GROUP BY d.day ORDER BY d.day"
    ).format(complaints=_t(tenant_id, "complaints"))
    with services.db.transaction() as conn:
        rows = conn.execute(query, (days - 1,)).fetchall()
    return [{"day": row["day"].isoformat(), "count": row["n"]} for row in rows]


class ManualComplaint(BaseModel):
    """A walk-in or phone complaint typed in by staff: the same rules as the agent's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    location: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    caller_name: Annotated[str, StringConstraints(max_length=120)] | None = None
    caller_number: Annotated[str, StringConstraints(pattern=r"^\+91[1-9]\d{9}$")] | None = None
    landmark: Annotated[str, StringConstraints(max_length=200)] | None = None
    language: Literal["ta", "hi", "en"] = "en"
    channel: Literal["walk_in", "manual"] = "walk_in"


def create_manual(
    services: Services, who: OfficeUser, body: ManualComplaint, *, idempotency_key: str | None
) -> dict[str, Any]:
    from mla_core.complaints.intake import ComplaintDraft, log_complaint

    config = load_agent_config(services, who.tenant_id)
    if config is None:
        raise NotFoundError("this office has no agent configuration")
    draft = ComplaintDraft(
        **body.model_dump(include={"category", "description", "location", "caller_name", "landmark"})
    )
    logged = log_complaint(
        services, config, draft, idempotency_key=f"manual:{who.user_id}:{idempotency_key or uuid.uuid4()}",
        caller_number=body.caller_number, language=body.language, room_name=None, channel=body.channel,
    )  # fmt: skip
    return get_complaint(services, who.tenant_id, str(logged.reference))
