"""The complaint list at scale: 1,000,000 complaints in one tenant, 100 other tenants present.

Server time of `GET /api/complaints` (the real FastAPI app in-process, the caller's identity given
by a dependency override) for the default view, a filtered view, text searches and a deep page,
against the same SQL run directly on the same database in the same run (goal: p95 ≤ 50 ms and
≤ 2× the direct SQL); each search by a word's start or spelling (issue 15, item 6) also against the
whole-word query of before (`plainto_tsquery`) on the same index, for the word it should find;
`GET /api/stats` (goal ≤ 200 ms); and the CSV export's peak memory as the rows grow (goal: flat).
Run: `.venv/bin/python -m bench.complaints_scale [--complaints 1000000]` (several minutes; not in CI).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from local_stack.postgres import start_postgres

DESCRIPTIONS = [
    "குடிநீர் வரவில்லை மூன்று நாட்களாக", "தெருவிளக்கு எரியவில்லை", "बिजली नहीं है दो दिन से",
    "सड़क पर गड्ढा है", "Drainage overflowing near the school", "No ration given this month",
]  # fmt: skip
# One complaint in 50 says a word that people spell or end in more than one way (about 6,700 each at
# 1,000,000: neither rare enough for the index alone nor common enough for the newest-first scan).
VARIANTS = ["ஓய்வூதியம் கிடைக்கவில்லை", "Potholes near the bus stand", "हैंडपंप खराब है"]
CATEGORIES = ["water", "electricity", "roads", "drainage", "streetlights", "ration_pds"]
STATUSES = ["new", "acknowledged", "assigned", "in_progress", "resolved", "closed"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(db: Any, tenant_id: str, complaints: int) -> None:
    from mla_core.db.migrate import migrate_control_plane, migrate_tenant

    migrate_control_plane(db)
    with db.transaction() as conn:
        for i in range(101):
            tid = tenant_id if i == 0 else f"other{i:05d}"
            conn.execute(
                "INSERT INTO platform.tenants (tenant_id, status, mla_name, constituency, state, languages, admin_email,"
                " schema_name, room_name) VALUES (%s, 'active', 'M', 'C', 'Tamil Nadu', '{ta}', %s, %s, %s)",
                (tid, f"{tid}@example.in", f"tenant_{tid}", f"mla-{tid}"),
            )
    for i in range(101):
        migrate_tenant(db, f"tenant_{tenant_id}" if i == 0 else f"tenant_other{i:05d}")
    table = sql.Identifier(f"tenant_{tenant_id}")
    batch = 100_000
    for start in range(0, complaints, batch):
        with db.transaction() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.complaints (reference, idempotency_key, category, description, location,"
                    " caller_number, language, status, sla_due_at, created_at, updated_at, resolved_at)"
                    " SELECT 1000 + g, 'bench-' || g, (%s::text[])[1 + g %% 6],"
                    " CASE WHEN g %% 50 = 0 THEN (%s::text[])[1 + (g / 50) %% 3] ELSE (%s::text[])[1 + g %% 6] END,"
                    " 'Ward ' || (g %% 60), '+9190' || lpad((g %% 100000000)::text, 8, '0'),"
                    " (ARRAY['ta','hi','en'])[1 + g %% 3], (%s::text[])[1 + (g / 7) %% 6],"
                    " now() - make_interval(mins => g %% 500000) + interval '21 days',"
                    " now() - make_interval(mins => g %% 500000), now(),"
                    " CASE WHEN (g / 7) %% 6 >= 4 THEN now() - make_interval(mins => g %% 500000)"
                    "      + make_interval(hours => 1 + g %% 400) END"
                    " FROM generate_series(%s::int, %s::int) AS g"
                ).format(table),
                (CATEGORIES, VARIANTS, DESCRIPTIONS, STATUSES, start + 1, min(start + batch, complaints)),
            )
    # What autovacuum does to a table this size in production: statistics and the visibility map.
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM ANALYZE {}.complaints").format(table))


class ServerTiming:
    """ASGI wrapper: the time from the request entering the app to its last response byte, which is
    what "server time" means (the in-process HTTP client's own work is left out)."""

    def __init__(self, app: Any) -> None:
        self.app, self.last = app, 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.last = time.perf_counter() - started


async def timed(
    client: httpx.AsyncClient,
    timing: ServerTiming,
    path: str,
    params: dict[str, Any],
    runs: int,
    baseline: Callable[[], object] | None = None,
) -> tuple[list[float], list[float]]:
    """Server times of `path`, and when given, of `baseline` run right after each request: the two
    alternate, so the machine's noise falls on both alike."""
    samples, base = [], []
    for _ in range(runs):
        response = await client.get(path, params=params)
        assert response.status_code == 200, response.text
        samples.append(timing.last)
        if baseline is not None:
            started = time.perf_counter()
            baseline()
            base.append(time.perf_counter() - started)
    return samples, base


def direct_sql(db: Any, tenant_id: str, filters: Any, whole_word: str | None = None) -> Callable[[], object]:
    """The SQL the route runs, executed directly: the baseline (a search's second query too, when its
    newest rows do not fill the page). With `whole_word`, the search before issue 15 instead: that
    word alone, whole (`plainto_tsquery`), in one query on the same index."""
    from mla_core.complaints import search, store

    query: sql.Composable
    query, params = search.list_query(tenant_id, filters)
    if whole_word is not None:
        query, params = store.search_page_query(tenant_id, filters, None)
        text = query.as_string().replace("platform.search_query(%s)", "plainto_tsquery('simple', %s)")
        query = sql.SQL(text.replace("WITH found AS MATERIALIZED (", "").replace(") SELECT * FROM found", ""))
        params = [whole_word if value == filters.q else value for value in params]

    def run() -> object:
        with db.transaction() as conn:
            rows = conn.execute(query, params).fetchall()
            if whole_word is None and filters.q and len(rows) <= filters.limit:
                rows = conn.execute(*search.search_query(tenant_id, filters)).fetchall()
            return rows

    return run


BENCH_JWT_SECRET = "bench-only-secret-bench-only-secret-0123"


def signed_in_token(tenant_id: str, user_id: str) -> str:
    """A real access token for an MLA admin of `tenant_id`, and their row in `platform.users`: what
    sign-in costs on every request (token check, role read back) is then measured too."""
    import jwt

    from mla_core.adapters import get_services

    settings = get_services().settings
    with get_services().db.transaction() as conn:
        conn.execute(
            "INSERT INTO platform.users (user_id, tenant_id, email, role) VALUES (%s, %s, 'b@example.in', 'mla_admin')"
            " ON CONFLICT DO NOTHING",
            (user_id, tenant_id),
        )
    claims = {
        "sub": user_id,
        "aud": settings.supabase_jwt_audience,
        "iss": f"{settings.supabase_url.rstrip('/')}/auth/v1",
        "exp": int(time.time()) + 3600,
        "iat": int(time.time()),
        "session_id": "00000000-0000-0000-0000-0000000000b1",  # a session never signed out
        "email": "b@example.in",
        "app_metadata": {"role": "mla_admin", "tenant_id": tenant_id},
    }
    return jwt.encode(claims, BENCH_JWT_SECRET, algorithm="HS256")


@dataclass
class Setup:
    args: argparse.Namespace
    pg: Any
    tenant_id: str
    signed_in: Callable[[], Awaitable[Any]]


def setup(doc: str) -> Setup:
    """The command line, Postgres with the seeded complaints, and the signed-in caller to give the apps."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    pg = start_postgres(Path(tempfile.mkdtemp()) / "pg")
    os.environ["DATABASE_URL"] = pg.url
    os.environ["SUPABASE_JWT_SECRET"] = BENCH_JWT_SECRET  # so `signed_in_token` can sign a real session
    from mla_core.adapters import get_services
    from mla_core.core.principal import OfficeUser

    tenant_id = "benchtenan"
    started = time.perf_counter()
    seed(get_services().db, tenant_id, args.complaints)
    print(f"seeded {args.complaints:,} complaints + 100 other tenants in {time.perf_counter() - started:.0f} s")
    who = OfficeUser(
        user_id="00000000-0000-0000-0000-000000000001", email="b@example.in", role="mla_admin", tenant_id=tenant_id
    )

    async def signed_in() -> OfficeUser:
        """The caller, given: this measures the view. (An `async def`, as a plain lambda would add a
        worker-thread hop that the sign-in check it stands for already pays for itself.)"""
        return who

    return Setup(args, pg, tenant_id, signed_in)


def main() -> None:
    run_setup = setup(__doc__ or "")
    args, pg, tenant_id = run_setup.args, run_setup.pg, run_setup.tenant_id
    from local_stack.template import app_of

    app = app_of("DashboardFunction")
    from mla_core.adapters import get_services
    from mla_core.complaints import export
    from mla_core.complaints.models import ComplaintFilters
    from mla_core.http import deps
    from mla_core.web.i18n import translator

    services = get_services()
    app.dependency_overrides[deps.office_user] = run_setup.signed_in

    views: dict[str, dict[str, Any]] = {
        "default (newest 50)": {},
        "filtered (status+category+language)": {"status": ["assigned"], "category": "water", "language": "ta"},
        "text search (Tamil word)": {"q": "குடிநீர்"},
        "prefix search (ஓய்வூதிய)": {"q": "ஓய்வூதிய"},
        "English stem (pothole)": {"q": "pothole"},
        "Hindi spelling (हैंडपम्प)": {"q": "हैंडपम्प"},
        "one complaint by its reference": {"q": str(1000 + args.complaints // 3)},
        "deep page (cursor halfway down)": {},
    }

    # What each search should find, as the whole-word search of before had to be asked for it.
    reference = str(1000 + args.complaints // 3)
    whole_words = {
        "ஓய்வூதிய": "ஓய்வூதியம்", "pothole": "potholes", "हैंडपम्प": "हैंडपंप", "குடிநீர்": "குடிநீர்", reference: reference,
    }  # fmt: skip

    async def run() -> None:
        timing = ServerTiming(app)
        transport = httpx.ASGITransport(app=timing)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            middle = await _cursor_at(client, args.complaints // 2)
            views["deep page (cursor halfway down)"] = {"cursor": middle}
            print(f"GET /api/complaints, {args.runs} runs each (goal: p95 ≤ 50 ms and ≤ 2× direct SQL)")
            for label, params in views.items():
                baseline = direct_sql(services.db, tenant_id, ComplaintFilters(**params))
                await timed(client, timing, "/api/complaints", params, 10, baseline)  # warm both
                api, sql_only = await timed(client, timing, "/api/complaints", params, args.runs, baseline)
                ms = {
                    name: (statistics.median(xs) * 1000, percentile(xs, 0.95) * 1000)
                    for name, xs in (("api", api), ("sql", sql_only))
                }
                print(
                    f"  {label:<38} API p50 {ms['api'][0]:5.2f} p95 {ms['api'][1]:5.2f} ms"
                    f"   direct SQL p50 {ms['sql'][0]:5.2f} p95 {ms['sql'][1]:5.2f} ms"
                    f"   ratio p50 {ms['api'][0] / ms['sql'][0]:4.2f} p95 {ms['api'][1] / ms['sql'][1]:4.2f}"
                )
                if (word := whole_words.get(params.get("q", ""))) is not None:
                    old = direct_sql(services.db, tenant_id, ComplaintFilters(**params), word)
                    runs = 10 if word == reference else args.runs  # the reference read the whole table: slow
                    _, before = await timed(client, timing, "/api/complaints", params, runs, old)
                    p50, p95 = statistics.median(before) * 1000, percentile(before, 0.95) * 1000
                    print(
                        f"  {'':<38} whole-word SQL before ({word}) p50 {p50:5.2f} p95 {p95:5.2f} ms"
                        f"   direct SQL / before: p50 {ms['sql'][0] / p50:4.2f} p95 {ms['sql'][1] / p95:4.2f}"
                    )
            del app.dependency_overrides[deps.office_user]
            token = signed_in_token(tenant_id, "00000000-0000-0000-0000-000000000001")
            client.headers["Authorization"] = f"Bearer {token}"
            await timed(client, timing, "/api/complaints", {}, 10)
            real, _ = await timed(client, timing, "/api/complaints", {}, args.runs)
            print(
                f"  {'default, with sign-in (token + role)':<38} API p50 {statistics.median(real) * 1000:5.2f}"
                f" p95 {percentile(real, 0.95) * 1000:5.2f} ms   (the sign-in check's own cost)"
            )
            stats, _ = await timed(client, timing, "/api/stats", {}, max(5, args.runs // 5))
            print(
                f"  GET /api/stats                         p50 {statistics.median(stats) * 1000:6.1f} ms (goal ≤ 200 ms)"
            )

    async def _cursor_at(client: httpx.AsyncClient, offset: int) -> str:
        from mla_core.complaints.search import cursor_after

        with services.db.transaction() as conn:
            row = conn.execute(
                sql.SQL(
                    "SELECT id, created_at, sla_due_at FROM {}.complaints ORDER BY created_at DESC, id DESC"
                    " OFFSET %s LIMIT 1"
                ).format(sql.Identifier(f"tenant_{tenant_id}")),
                (offset,),
            ).fetchone()
        assert row is not None
        return cursor_after("newest", row)

    asyncio.run(run())

    print("CSV export: peak Python memory while streaming (goal: flat as rows grow)")
    for rows in (10_000, 100_000):
        filters = ComplaintFilters()
        tracemalloc.start()
        lines = export.export_rows(services, tenant_id, filters, "en", translator("en"))
        for count, _line in enumerate(lines):
            if count > rows:
                break
        getattr(lines, "close", lambda: None)()  # its server-side cursor, before Postgres stops
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  {rows:>7,} rows   peak {peak / 1e6:6.1f} MB")
    pg.stop()


if __name__ == "__main__":
    main()
