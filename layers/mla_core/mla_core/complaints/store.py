"""Every query on a tenant's complaint tables: complaints, their events, their calls and their
notifications.

Each function takes a connection inside the caller's transaction. Every query is scoped to one
tenant's schema (the tenant id comes from the verified token or the agent's config, never from a
request) and every identifier is composed with `psycopg.sql`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, TypedDict, cast

from psycopg import sql
from psycopg.types.json import Jsonb

from mla_core.complaints import lifecycle
from mla_core.complaints.models import (
    CallSummary,
    Choices,
    Complaint,
    ComplaintChange,
    ComplaintFilters,
    ComplaintLink,
    ComplaintRow,
    DayCount,
    Event,
    Notification,
    TimelineEvent,
)
from mla_core.core.fields import ascii_digits
from mla_core.core.names import main_agent_id, schema_name
from mla_core.db import AsyncConn, Conn

DUE_SOON = timedelta(hours=48)
# Redis's counter issues references below this; Postgres issues them from it up while Redis is
# unavailable (tenant migration 0003's sequence starts at REFERENCE_CEILING + 1): the two never meet.
REFERENCE_CEILING = 9_000_000

COLUMNS = (
    "id", "reference", "status", "priority", "category", "description", "location", "landmark", "caller_name",
    "caller_number", "callback_number", "language", "channel", "assigned_to", "sla_due_at", "supporter_count",
    "duplicate_of", "transferred_to", "version", "created_at", "updated_at", "acknowledged_at", "resolved_at",
    "closed_at",
)  # fmt: skip


def _t(tenant_id: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema_name(tenant_id)), sql.Identifier(table))


_OPEN = sql.SQL(", ").join(map(sql.Literal, lifecycle.OPEN))


def _select(tenant_id: str, more: sql.Composable = sql.SQL("")) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    return sql.SQL(
        "SELECT {columns}, (sla_due_at < now() AND status IN ({open})) AS overdue{more} FROM {table}"
    ).format(columns=columns, open=_OPEN, more=more, table=_t(tenant_id, "complaints"))


# The list --------------------------------------------------------------------------------------

# Each sort: its ORDER BY, and the keyset condition of the rows after a cursor's (key, id).
ORDER: dict[str, tuple[sql.SQL, sql.SQL]] = {
    "newest": (sql.SQL("created_at DESC, id DESC"), sql.SQL("(created_at, id) < (%s, %s)")),
    "oldest": (sql.SQL("created_at ASC, id ASC"), sql.SQL("(created_at, id) > (%s, %s)")),
    "sla_due": (
        sql.SQL("coalesce(sla_due_at, 'infinity') ASC, id ASC"),
        sql.SQL("(coalesce(sla_due_at, 'infinity'), id) > (%s, %s)"),
    ),
}


def _where(filters: ComplaintFilters, *, search: bool = True) -> tuple[list[sql.Composable], list[Any]]:
    """The filters' conditions and their parameters (the text search's last, unless `search` is False)."""
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
    if filters.sla == "overdue":
        clauses.append(sql.SQL("sla_due_at < now() AND status IN ({})").format(_OPEN))
    elif filters.sla == "due_soon":
        clauses.append(sql.SQL("sla_due_at >= now() AND sla_due_at < now() + %s AND status IN ({})").format(_OPEN))
        params.append(DUE_SOON)
    if filters.q and search:
        clauses.append(_MATCHES)
        params.append(filters.q)
    return clauses, params


# A word found by its start and its usual spellings (control migration 0011, tenant migration 0007).
_MATCHES = sql.SQL("search @@ platform.search_query(%s)")
# A search reads the newest rows in the list's order, at most this many, and keeps those that match: a
# common word fills a page after a few hundred. A word that does not (a reference, a name, a word
# nobody wrote) is then looked up in the GIN index (`search_page_query`). Postgres alone would read the
# whole table in order for it: it cannot know how rare a word is (1.3 s for a reference at 1,000,000).
SEARCH_WINDOW = 10_000


def _where_sql(clauses: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")


def page_query(
    tenant_id: str, filters: ComplaintFilters, after: tuple[Any, ...] | None
) -> tuple[sql.Composed, list[Any]]:
    """The SQL of one page after the row whose sort key is `after` (sort value, id), or the first;
    one row more than the page, to know whether another follows."""
    clauses, params = _where(filters, search=False)
    order, keyset = ORDER[filters.sort]
    if after is not None:
        clauses.append(keyset)
        params.extend(after)
    if filters.q:
        query = sql.SQL(
            "SELECT {columns}, overdue FROM ({select}{where} ORDER BY {order} LIMIT {window}) AS recent"
            " WHERE {matches} ORDER BY {order} LIMIT %s"
        ).format(
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
            select=_select(tenant_id, sql.SQL(", search")),
            where=_where_sql(clauses),
            order=order,
            window=sql.Literal(SEARCH_WINDOW),
            matches=_MATCHES,
        )
        return query, [*params, filters.q, filters.limit + 1]
    query = sql.SQL("{select}{where} ORDER BY {order} LIMIT %s").format(
        select=_select(tenant_id), where=_where_sql(clauses), order=order
    )
    return query, [*params, filters.limit + 1]


def search_page_query(
    tenant_id: str, filters: ComplaintFilters, after: tuple[Any, ...] | None
) -> tuple[sql.Composed, list[Any]]:
    """`page_query` of a search whose newest `SEARCH_WINDOW` rows did not fill the page: every match
    from the GIN index first (few, for such a word), then the page of them in the list's order."""
    clauses, params = _where(filters)
    order, keyset = ORDER[filters.sort]
    if after is not None:
        clauses.append(keyset)
        params.extend(after)
    query = sql.SQL(
        "WITH found AS MATERIALIZED ({select}{where}) SELECT * FROM found ORDER BY {order} LIMIT %s"
    ).format(select=_select(tenant_id), where=_where_sql(clauses), order=order)
    return query, [*params, filters.limit + 1]


async def fetch_all(conn: AsyncConn, query: sql.Composed | str, params: Any) -> list[Any]:
    return await (await conn.execute(query, params)).fetchall()


_CHOICES = (
    "SELECT (SELECT coalesce(jsonb_object_agg(user_id::text, coalesce(full_name, email)), '{}')"
    "        FROM platform.users WHERE tenant_id = %(t)s AND NOT disabled) AS people,"
    "       (SELECT coalesce(jsonb_object_agg(c ->> 'code', c -> 'names'), '{}') FROM platform.agent_configs a,"
    "               jsonb_array_elements(a.config -> 'categories') c WHERE a.agent_id = %(main)s) AS categories"
)


def choices_query(tenant_id: str) -> tuple[str, dict[str, str]]:
    """The office's active people by id and its main agent's categories (code → names by language)."""
    return _CHOICES, {"t": tenant_id, "main": main_agent_id(tenant_id)}


def choices(conn: Conn, tenant_id: str) -> Choices:
    row = conn.execute(*choices_query(tenant_id)).fetchone()
    assert row is not None
    return {"people": row["people"], "categories": row["categories"]}


class ExportLookups(TypedDict):
    """What the CSV export writes in place of ids."""

    people: dict[str, str]  # every one of the office's people, disabled too: user id → name (or email)
    categories: dict[str, dict[str, str]]  # the main agent's categories: code → name by language
    references: dict[str, int]  # each complaint another is a duplicate of: id → reference


def export_lookups(conn: Conn, tenant_id: str) -> ExportLookups:
    """The names and references the export writes for the ids its rows hold."""
    originals = sql.SQL(
        "SELECT coalesce(jsonb_object_agg(o.id::text, o.reference), '{{}}') FROM {t} o"
        " WHERE o.id IN (SELECT duplicate_of FROM {t} WHERE duplicate_of IS NOT NULL)"
    ).format(t=_t(tenant_id, "complaints"))
    query = sql.SQL(
        "SELECT (SELECT coalesce(jsonb_object_agg(user_id::text, coalesce(full_name, email)), '{{}}')"
        "        FROM platform.users WHERE tenant_id = %(t)s) AS people,"
        "       (SELECT coalesce(jsonb_object_agg(c ->> 'code', c -> 'names'), '{{}}') FROM platform.agent_configs a,"
        "               jsonb_array_elements(a.config -> 'categories') c WHERE a.agent_id = %(main)s) AS categories,"
        "       ({originals}) AS originals"
    ).format(originals=originals)
    row = conn.execute(query, {"t": tenant_id, "main": main_agent_id(tenant_id)}).fetchone()
    assert row is not None
    return {"people": row["people"], "categories": row["categories"], "references": row["originals"]}


def count(conn: Conn, tenant_id: str, filters: ComplaintFilters, *, cap: int) -> int:
    """How many complaints match the filters, counting no further than `cap`."""
    clauses, params = _where(filters)
    query = sql.SQL("SELECT count(*) AS n FROM (SELECT 1 FROM {table}{where} LIMIT %s) AS capped").format(
        table=_t(tenant_id, "complaints"), where=_where_sql(clauses)
    )
    row = conn.execute(query, [*params, cap]).fetchone()
    return int(row["n"]) if row else 0


def stream(conn: Conn, tenant_id: str, filters: ComplaintFilters) -> Iterator[dict[str, Any]]:
    """Every matching complaint in the filters' order, from a server-side cursor (memory stays flat)."""
    clauses, params = _where(filters)
    query = sql.SQL("{select}{where} ORDER BY {order}").format(
        select=_select(tenant_id), where=_where_sql(clauses), order=ORDER[filters.sort][0]
    )
    with conn.cursor(name="complaints_export") as cursor:
        cursor.itersize = 2000
        cursor.execute(query, params)
        yield from cursor


# One complaint ---------------------------------------------------------------------------------


def _key(id_or_reference: str) -> tuple[str, int | uuid.UUID] | None:
    """The column and value that `id_or_reference` names: an id (UUID) or a reference (digits)."""
    reference = ascii_digits(id_or_reference)  # `isdigit` alone takes "²", which int() refuses
    if reference.isascii() and reference.isdigit() and len(reference) <= 12:
        return "reference", int(reference)
    try:
        return "id", uuid.UUID(id_or_reference)
    except ValueError:
        return None


def find(conn: Conn, tenant_id: str, id_or_reference: str, *, lock: bool = False) -> ComplaintRow | None:
    """A complaint by id (UUID) or reference (digits); None for anything else, or when absent.
    `lock` holds its row until the transaction ends."""
    key = _key(id_or_reference)
    if key is None:
        return None
    clause = sql.SQL("{} = %s").format(sql.Identifier(key[0]))
    query = sql.SQL("{} WHERE {}{}").format(_select(tenant_id), clause, sql.SQL(" FOR UPDATE") if lock else sql.SQL(""))
    return cast("ComplaintRow | None", conn.execute(query, (key[1],)).fetchone())


def lock_in_order(conn: Conn, tenant_id: str, ids_or_references: list[str]) -> dict[str, ComplaintRow]:
    """Complaints by id or reference, locked until the transaction ends by one statement in id order,
    so that two transactions locking the same rows (A then B, B then A) wait for each other instead of
    deadlocking; keyed by the id or reference they were asked for (those absent are left out)."""
    keys = {given: key for given in ids_or_references if (key := _key(given)) is not None}
    ids = [value for column, value in keys.values() if column == "id"]
    references = [value for column, value in keys.values() if column == "reference"]
    query = sql.SQL("{} WHERE id = ANY(%s) OR reference = ANY(%s) ORDER BY id FOR UPDATE").format(_select(tenant_id))
    rows = cast("list[ComplaintRow]", conn.execute(query, (ids, references)).fetchall())
    return {given: row for given, (column, value) in keys.items() for row in rows if row[column] == value}  # type: ignore[literal-required]


def timeline(conn: Conn, tenant_id: str, complaint_id: uuid.UUID) -> list[TimelineEvent]:
    query = sql.SQL(
        "SELECT event_type, from_status, to_status, actor_type, actor_id, note, data, created_at"
        " FROM {} WHERE complaint_id = %s ORDER BY id"
    ).format(_t(tenant_id, "complaint_events"))
    return cast("list[TimelineEvent]", conn.execute(query, (complaint_id,)).fetchall())


def call(conn: Conn, tenant_id: str, complaint_id: uuid.UUID) -> CallSummary | None:
    query = sql.SQL(
        "SELECT c.room_name, c.caller_number, c.dialed_number, c.language, c.status, c.outcome,"
        " c.started_at, c.ended_at, c.duration_seconds, c.transcript, c.recording_url"
        " FROM {calls} c JOIN {complaints} x ON x.room_name = c.room_name WHERE x.id = %s"
    ).format(calls=_t(tenant_id, "calls"), complaints=_t(tenant_id, "complaints"))
    return cast("CallSummary | None", conn.execute(query, (complaint_id,)).fetchone())


def notifications(conn: Conn, tenant_id: str, complaint_id: uuid.UUID) -> list[Notification]:
    query = sql.SQL(
        "SELECT channel, recipient, purpose, language, body, status, provider_message_id, attempts,"
        " last_error, created_at, sent_at FROM {} WHERE complaint_id = %s ORDER BY created_at"
    ).format(_t(tenant_id, "notifications"))
    return cast("list[Notification]", conn.execute(query, (complaint_id,)).fetchall())


_LINK = "SELECT id, reference, category, status, description, supporter_count FROM {} WHERE id = ANY(%s)"


def links(
    conn: Conn, tenant_id: str, ids: list[uuid.UUID], *, duplicates_of: uuid.UUID | None = None
) -> list[ComplaintLink]:
    """The complaints `ids` in reference order, as another complaint's page names them; with
    `duplicates_of`, only those still marked duplicates of that complaint (by primary key: no scan)."""
    query = sql.SQL(_LINK + (" AND duplicate_of = %s" if duplicates_of else "") + " ORDER BY reference").format(
        _t(tenant_id, "complaints")
    )
    params: tuple[Any, ...] = (ids, duplicates_of) if duplicates_of else (ids,)
    return cast("list[ComplaintLink]", conn.execute(query, params).fetchall())


def people_named(conn: Conn, tenant_id: str, user_ids: list[uuid.UUID]) -> dict[str, str]:
    """The office's people among `user_ids` (disabled ones too): user id → name (or email)."""
    rows = conn.execute(
        "SELECT user_id::text AS id, coalesce(full_name, email) AS name FROM platform.users"
        " WHERE tenant_id = %s AND user_id = ANY(%s)",
        (tenant_id, user_ids),
    ).fetchall()
    return {row["id"]: row["name"] for row in rows}


def is_active_member(conn: Conn, tenant_id: str, user_id: uuid.UUID) -> bool:
    """Whether `user_id` is an active person of the office (who may be assigned a complaint)."""
    row = conn.execute(
        "SELECT 1 FROM platform.users WHERE user_id = %s AND tenant_id = %s AND NOT disabled", (user_id, tenant_id)
    ).fetchone()
    return row is not None


def add_events(conn: Conn, tenant_id: str, events: list[Event], *, actor_id: str) -> None:
    """Lines on the complaints' timelines, in order, made by the office user `actor_id`."""
    query = sql.SQL(
        "INSERT INTO {} (complaint_id, event_type, from_status, to_status, actor_type, actor_id, note, data)"
        " VALUES (%s, %s, %s, %s, 'user', %s, %s, %s)"
    ).format(_t(tenant_id, "complaint_events"))
    for e in events:
        conn.execute(query, (e.complaint_id, e.event_type, e.from_status, e.to_status, actor_id, e.note, Jsonb(e.data)))


def apply_change(
    conn: Conn, tenant_id: str, complaint_id: uuid.UUID, change: ComplaintChange, *, actor_id: str
) -> None:
    """Write a planned change: the duplicate's original gains a supporter, the events, then the
    complaint's columns with its next version."""
    complaints = _t(tenant_id, "complaints")
    if change.original is not None:
        conn.execute(
            sql.SQL(
                "UPDATE {} SET supporter_count = supporter_count + 1, version = version + 1, updated_at = now()"
                " WHERE id = %s"
            ).format(complaints),
            (change.original,),
        )
    if change.released is not None:
        conn.execute(
            sql.SQL(
                "UPDATE {} SET supporter_count = GREATEST(supporter_count - 1, 1), version = version + 1,"
                " updated_at = now() WHERE id = %s"
            ).format(complaints),
            (change.released,),
        )
    add_events(conn, tenant_id, change.events, actor_id=actor_id)
    assignments = sql.SQL("").join(sql.SQL("{} = %s, ").format(sql.Identifier(column)) for column in change.columns)
    conn.execute(
        sql.SQL("UPDATE {} SET {}version = version + 1, updated_at = now() WHERE id = %s").format(
            complaints, assignments
        ),
        (*change.columns.values(), complaint_id),
    )


# Intake ----------------------------------------------------------------------------------------


def insert(conn: Conn, complaint: Complaint) -> int | None:
    """Store `complaint` with its `created` event, unless its idempotency key was stored before:
    then None, and nothing is written."""
    tenant_id = complaint.tenant_id
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {complaints} (reference, idempotency_key, channel, category, description, location,"
            " landmark, caller_name, caller_number, callback_number, language, room_name, sla_due_at, created_at,"
            " updated_at, call_id)"
            " VALUES (%(reference)s, %(idempotency_key)s, %(channel)s, %(category)s, %(description)s, %(location)s,"
            " %(landmark)s, %(caller_name)s, %(caller_number)s, %(callback_number)s, %(language)s, %(room_name)s,"
            " %(sla_due_at)s, %(created_at)s, %(created_at)s, (SELECT id FROM {calls} WHERE room_name = %(room_name)s))"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
        ).format(complaints=_t(tenant_id, "complaints"), calls=_t(tenant_id, "calls")),
        complaint.model_dump(exclude={"schema_version", "tenant_id", "sms_confirmation", "logged_by"}),
    ).fetchone()
    if row is None:
        return None
    # Who logged it: the staffer who typed it in, else the agent (by the call's room).
    actor_type, actor_id = ("user", complaint.logged_by) if complaint.logged_by else ("agent", complaint.room_name)
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (complaint_id, event_type, to_status, actor_type, actor_id, data)"
            " VALUES (%s, 'created', 'new', %s, %s, %s)"
        ).format(_t(tenant_id, "complaint_events")),
        (
            row["id"],
            actor_type,
            actor_id,
            Jsonb({"channel": complaint.channel, "language": complaint.language}),
        ),
    )
    return complaint.reference


def fallback_reference(conn: Conn, tenant_id: str) -> int:
    """A reference from Postgres, for when Redis cannot give one: from REFERENCE_CEILING + 1 up
    (tenant migration 0003), where Redis's counter never reaches."""
    row = conn.execute(
        sql.SQL("SELECT nextval({}) AS reference").format(
            sql.Literal(f"{schema_name(tenant_id)}.complaint_fallback_reference")
        )
    ).fetchone()
    assert row is not None
    return int(row["reference"])


def reference_for_key(conn: Conn, tenant_id: str, idempotency_key: str) -> int:
    """The reference of the complaint stored under `idempotency_key`."""
    row = conn.execute(
        sql.SQL("SELECT reference FROM {} WHERE idempotency_key = %s").format(_t(tenant_id, "complaints")),
        (idempotency_key,),
    ).fetchone()
    assert row is not None
    return int(row["reference"])


def reference_under_key(conn: Conn, tenant_id: str, idempotency_key: str) -> int | None:
    """The reference of the complaint stored under `idempotency_key`, if one is."""
    row = conn.execute(
        sql.SQL("SELECT reference FROM {} WHERE idempotency_key = %s").format(_t(tenant_id, "complaints")),
        (idempotency_key,),
    ).fetchone()
    return int(row["reference"]) if row else None


def highest_reference(conn: Conn, tenant_id: str) -> int:
    """The highest reference Redis's counter issued that is stored (Postgres's own are above them)."""
    row = conn.execute(
        sql.SQL("SELECT COALESCE(max(reference), 0) AS highest FROM {} WHERE reference < %s").format(
            _t(tenant_id, "complaints")
        ),
        (REFERENCE_CEILING,),
    ).fetchone()
    assert row is not None
    return int(row["highest"])


_CALLERS_VIEW = "SELECT reference, category, status, created_at, sla_due_at, description FROM {}"


def callers_complaint(conn: Conn, tenant_id: str, reference: int, caller_number: str) -> dict[str, Any] | None:
    """The complaint `reference` if `caller_number` logged it, as the agent tells it."""
    query = sql.SQL(_CALLERS_VIEW + " WHERE reference = %s AND caller_number = %s").format(_t(tenant_id, "complaints"))
    return conn.execute(query, (reference, caller_number)).fetchone()


def unowned_complaint_status(conn: Conn, tenant_id: str, reference: int) -> dict[str, Any] | None:
    """The status of complaint `reference` when no caller's number owns it (a hidden caller's, or a
    walk-in's without a number): the reference, status and date only, nothing the caller said."""
    query = sql.SQL(
        "SELECT reference, status, created_at FROM {} WHERE reference = %s AND caller_number IS NULL"
    ).format(_t(tenant_id, "complaints"))
    return conn.execute(query, (reference,)).fetchone()


def callers_open_complaints(conn: Conn, tenant_id: str, caller_number: str, *, limit: int) -> list[dict[str, Any]]:
    """The caller's complaints not yet resolved, closed or merged as a duplicate, newest first."""
    query = sql.SQL(
        _CALLERS_VIEW + " WHERE caller_number = %s AND status NOT IN ('resolved', 'closed', 'duplicate')"
        " ORDER BY created_at DESC LIMIT %s"
    ).format(_t(tenant_id, "complaints"))
    return conn.execute(query, (caller_number, limit)).fetchall()


# Notifications ---------------------------------------------------------------------------------


def record_sms(
    conn: Conn, tenant_id: str, reference: int, *, to: str, purpose: str, language: str, body: str, template_id: str
) -> uuid.UUID | None:
    """The notification row of an SMS about complaint `reference` (None if there is no such complaint)."""
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {} (complaint_id, channel, recipient, purpose, language, template_id, body, provider)"
            " SELECT id, 'sms', %s, %s, %s, %s, %s, 'sns' FROM {} WHERE reference = %s RETURNING id"
        ).format(_t(tenant_id, "notifications"), _t(tenant_id, "complaints")),
        (to, purpose, language, template_id, body, reference),
    ).fetchone()
    return row["id"] if row else None


def mark_sent(conn: Conn, tenant_id: str, notification_id: uuid.UUID, provider_message_id: str) -> None:
    conn.execute(
        sql.SQL(
            "UPDATE {} SET status = 'sent', attempts = attempts + 1, provider_message_id = %s, sent_at = now(),"
            " last_error = NULL WHERE id = %s"
        ).format(_t(tenant_id, "notifications")),
        (provider_message_id, notification_id),
    )


def mark_failed(conn: Conn, tenant_id: str, notification_id: uuid.UUID, error: str) -> None:
    conn.execute(
        sql.SQL("UPDATE {} SET status = 'failed', attempts = attempts + 1, last_error = %s WHERE id = %s").format(
            _t(tenant_id, "notifications")
        ),
        (error, notification_id),
    )


def failed_sms(conn: Conn, tenant_id: str, *, max_attempts: int, limit: int = 100) -> list[dict[str, Any]]:
    """The oldest SMS that failed and may be tried again (id, recipient, body, template_id); an erased
    one (its recipient gone) never is."""
    return conn.execute(
        sql.SQL(
            "SELECT id, recipient, body, template_id FROM {} WHERE channel = 'sms' AND status = 'failed'"
            " AND attempts < %s AND recipient IS NOT NULL ORDER BY created_at LIMIT %s"
        ).format(_t(tenant_id, "notifications")),
        (max_attempts, limit),
    ).fetchall()


# Stats -----------------------------------------------------------------------------------------


def counts(conn: Conn, tenant_id: str) -> list[dict[str, Any]]:
    """Complaints by (status, category): `n` of them, `late` past their SLA date (an index-only
    scan of `complaints_counts_idx`)."""
    return conn.execute(
        sql.SQL(
            "SELECT status, category, count(*) AS n, count(*) FILTER (WHERE sla_due_at < now()) AS late"
            " FROM {} GROUP BY status, category"
        ).format(_t(tenant_id, "complaints"))
    ).fetchall()


def created_by_day(conn: Conn, tenant_id: str) -> list[DayCount]:
    """Complaints logged on each of the last 30 days (India time) that had any."""
    rows = conn.execute(
        sql.SQL(
            "SELECT (created_at AT TIME ZONE 'Asia/Kolkata')::date AS day, count(*) AS n FROM {}"
            " WHERE created_at >= now() - interval '30 days' GROUP BY 1 ORDER BY 1"
        ).format(_t(tenant_id, "complaints"))
    ).fetchall()
    return [{"day": row["day"].isoformat(), "count": row["n"]} for row in rows]


def median_seconds_to_resolve(conn: Conn, tenant_id: str) -> float | None:
    """The median time from logged to resolved of the last 90 days' resolutions."""
    row = conn.execute(
        sql.SQL(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at))"
            " AS seconds FROM {} WHERE resolved_at >= now() - interval '90 days'"
        ).format(_t(tenant_id, "complaints"))
    ).fetchone()
    return row["seconds"] if row else None


def overdue_by_day(conn: Conn, tenant_id: str, days: int) -> list[DayCount]:
    """How many complaints were overdue at the end of each of the last `days` days (India time)."""
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
    rows = conn.execute(query, (days - 1,)).fetchall()
    return [{"day": row["day"].isoformat(), "count": row["n"]} for row in rows]
