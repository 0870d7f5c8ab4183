"""Finding the office's complaints: filters and full-text search, one keyset page at a time.

The list is the dashboard's hottest read: it runs on the event loop, and its rows go out as the
dicts Postgres returns.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from psycopg import sql

from mla_core.adapters import Services
from mla_core.complaints import store
from mla_core.complaints.models import QUERY_LIMIT as QUERY_LIMIT  # the page's search box says it too
from mla_core.complaints.models import Choices, ComplaintFilters, ComplaintRow, ListPage, Sort
from mla_core.core import cursors


def _sort_key(value: str) -> datetime | str:
    """A cursor's sort key: a timestamp, or 'infinity' (no SLA date) which Postgres reads as one."""
    return value if value == "infinity" else datetime.fromisoformat(value)


def cursor_after(sort: Sort, row: ComplaintRow | dict[str, Any]) -> str:
    """The cursor to the rows after `row` in `sort` order."""
    key = row["sla_due_at"] if sort == "sla_due" else row["created_at"]
    return cursors.encode(sort, key or "infinity", row["id"])


def _after(filters: ComplaintFilters) -> tuple[Any, ...] | None:
    return cursors.decode(filters.cursor, filters.sort, _sort_key, uuid.UUID) if filters.cursor else None


def list_query(tenant_id: str, filters: ComplaintFilters) -> tuple[sql.Composed, list[Any]]:
    """The SQL of the page `filters` ask for (the cursor's sort must be theirs); for a search, of its
    newest rows (`store.SEARCH_WINDOW`), which `search_query` follows when they do not fill the page."""
    return store.page_query(tenant_id, filters, _after(filters))


def search_query(tenant_id: str, filters: ComplaintFilters) -> tuple[sql.Composed, list[Any]]:
    """The SQL of a search's page from every match (a rare word's): `store.search_page_query`."""
    return store.search_page_query(tenant_id, filters, _after(filters))


def _paged(rows: list[ComplaintRow], filters: ComplaintFilters) -> tuple[list[ComplaintRow], str | None]:
    return cursors.paginate(rows, filters.limit, lambda last: cursor_after(filters.sort, last))


async def _fetch(services: Services, query: Any, params: Any) -> list[Any]:
    async with services.db.read() as conn:
        return await store.fetch_all(conn, query, params)


async def _page_rows(services: Services, tenant_id: str, filters: ComplaintFilters) -> list[Any]:
    """The page's rows, one more than the page when another follows: a search's from its newest
    rows, or from every match when those do not fill the page."""
    query, params = list_query(tenant_id, filters)
    async with services.db.read() as conn:
        rows = await store.fetch_all(conn, query, params)
        if filters.q and len(rows) <= filters.limit:
            rows = await store.fetch_all(conn, *search_query(tenant_id, filters))
    return rows


async def list_complaints(
    services: Services, tenant_id: str, filters: ComplaintFilters
) -> tuple[list[ComplaintRow], str | None]:
    """One page of the office's complaints, and the cursor to the next (None on the last)."""
    return _paged(await _page_rows(services, tenant_id, filters), filters)


async def list_page(services: Services, tenant_id: str, filters: ComplaintFilters | None) -> ListPage:
    """What the dashboard's list page shows: a page of complaints and the filters' choices, read
    at the same time on two connections. Filters that were not understood (None) list nothing:
    never the whole office in their place."""
    if filters is None:
        offered = (await _fetch(services, *store.choices_query(tenant_id)))[0]
        return {"items": [], "next_cursor": None, "people": offered["people"], "categories": offered["categories"]}
    rows, [found] = await asyncio.gather(
        _page_rows(services, tenant_id, filters), _fetch(services, *store.choices_query(tenant_id))
    )
    items, next_cursor = _paged(rows, filters)
    return {"items": items, "next_cursor": next_cursor, "people": found["people"], "categories": found["categories"]}


def choices(services: Services, tenant_id: str) -> Choices:
    """What the list's filters and the assignment offer: the office's active people by id and its
    main agent's categories (code → names by language)."""
    with services.db.transaction() as conn:
        return store.choices(conn, tenant_id)


def count_complaints(services: Services, tenant_id: str, filters: ComplaintFilters, *, cap: int) -> int:
    """How many complaints match the filters, counting no further than `cap`."""
    with services.db.transaction() as conn:
        return store.count(conn, tenant_id, filters, cap=cap)
