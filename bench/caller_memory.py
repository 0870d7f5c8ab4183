"""Caller memory at scale (issue 18): 100,000 callers × 10 memories in one office, on the local stack.

1. **Memory load at call start**: `memories.for_call` (the agent's one query as it answers, through
   `Services` and its pool) for random callers with memories (hits) and numbers never seen (misses), in a
   worker thread as the agent runs its blocking calls (`asyncio.to_thread`) and called directly; beside it
   the same SQL text on a plain psycopg connection (the baseline) and `resolve_call_tenant` for the same
   office (by its dialed number, and by the job metadata the SIP dispatch rule gives), all alternating in
   one run. Goal: p99 ≤ 5 ms.
2. **Search, its database part**: `memories.search` for a caller, with the query's embedding computed
   before (the embeddings service swapped for a lookup: what is left is the filters, `store.nearest`'s SQL
   and its rows as models), against the same SQL text run directly with psycopg. Goal: p95 ≤ 20 ms. The
   embeddings call on its own: the local stand-in (WordLlama behind HTTP); production's is a network round
   trip to OpenAI, which this machine cannot measure.
3. **Call setup, memory on vs off**: `agent_pool.call.start_call` in text mode (as `bench.agent_setup`)
   for a caller with memories, a number without any and a hidden number (nothing to look up), alternating:
   every `CallTimings` figure for each, and how many calls read caller memory at all.
4. With `--audio`: `bench.agent_audio`'s call (real Silero VAD, zero-latency doubles, `start_call`) from a
   caller with memories and from a number without, alternating: the greeting's first frame and each turn,
   in audio time and wall time.

The data is made on the server (generate_series): per caller a name, a ward and a language and seven
facts; one caller in ten a household of two people (each with a name and a language, the facts split
between them); a random 256-dimension embedding per row. It is written one memory rank at a time, so that a
caller's rows lie on different pages as months of calls leave them; then VACUUM ANALYZE (as autovacuum
would) and a CHECKPOINT. Postgres is the local stack's (shared_buffers 128 MB: a caller's pages come from
the OS cache, as from a table larger than the server's buffers).
Run: `.venv/bin/python -m bench.caller_memory [--callers 100000] [--runs 2000] [--calls 100]
[--audio [--audio-turns 5] [--audio-rounds 3]]` (about 6 minutes with --audio at full scale).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from bench.agent_stack import alternate, create_tenants, local_stack, percentile

GOAL_LOAD_P99_MS = 5.0
GOAL_SEARCH_P95_MS = 20.0
MEMORIES_PER_CALLER = 10
FIRST_NAMES = ["Murugan", "Lakshmi", "Ramesh", "Sunita", "Karthik", "Meena", "Arjun", "Priya"]
SECOND_NAMES = ["Selvi", "Raju", "Anita", "Suresh", "Kavitha", "Mohan", "Deepa", "Vijay"]
LANGUAGES = ["Tamil", "Hindi", "English"]
FACTS = [
    "Complained about the water supply stopping in March",
    "Prefers to be called back after 6 pm",
    "Lives near the bus stand on 4th Cross Street",
    "Is a senior citizen waiting for the old-age pension",
    "Ration card not updated after moving house",
    "Reported a broken street light outside the school",
    "Works at the vegetable market, calls early in the morning",
    "Daughter studies at the government higher secondary school",
    "குடிநீர் குழாய் உடைந்தது பற்றி மீண்டும் கேட்டார்",
    "बिजली बिल गलत आने की शिकायत की थी",
    "Asked for the MLA office's hours on Saturdays",
    "Drain near the house overflows when it rains",
]
QUERIES = [
    "water supply", "pension", "street light", "when to call back", "ration card", "school",
    "where do they live", "drainage overflow", "குடிநீர்", "बिजली बिल", "office hours", "market",
]  # fmt: skip


def hit(callers: int) -> str:
    """A caller with memories (the seed numbers them +91 98000 00001 upwards)."""
    return f"+9198{random.randint(1, callers):08d}"


def miss() -> str:
    """A number the office has never heard from."""
    return f"+9197{random.randrange(10**8):08d}"


def quantiles(values: Sequence[float]) -> str:
    ordered = list(values)
    return (
        f"p50 {statistics.median(ordered):6.2f}  p95 {percentile(ordered, 0.95):6.2f}"
        f"  p99 {percentile(ordered, 0.99):6.2f} ms"
    )


def verdict(value: float, goal: float) -> str:
    return f"{value:.2f} ms: {'met' if value <= goal else 'NOT met'} (goal ≤ {goal:.0f} ms)"


# The data ---------------------------------------------------------------------------------------------


_SEED = """
WITH made AS (
    SELECT c, c %% 10 = 0 AS household,
        CASE WHEN %(k)s = 1 THEN 'name' WHEN %(k)s = 2 THEN 'ward' WHEN %(k)s = 3 THEN 'language'
             WHEN c %% 10 = 0 AND %(k)s = 7 THEN 'name' WHEN c %% 10 = 0 AND %(k)s = 8 THEN 'language' END AS slot
    FROM generate_series(1, %(callers)s::int) AS c
), worded AS (
    SELECT c, slot,
        CASE WHEN NOT household THEN '' WHEN %(k)s <= 6 THEN (%(first)s::text[])[1 + c %% 8]
             ELSE (%(second)s::text[])[1 + c %% 8] END AS person,
        CASE slot
            WHEN 'name' THEN CASE WHEN %(k)s = 7 THEN (%(second)s::text[])[1 + c %% 8]
                                  ELSE (%(first)s::text[])[1 + c %% 8] END
            WHEN 'ward' THEN 'Ward ' || (1 + c %% 60)
            WHEN 'language' THEN (%(languages)s::text[])[1 + (c + %(k)s) %% 3]
            ELSE (%(facts)s::text[])[1 + (c + %(k)s) %% 12] END AS memory
    FROM made
)
INSERT INTO {table} (caller_phone, person, kind, slot, memory, agent_id, run_id, complaint_ids, hash,
    embedding, created_by, created_at, updated_at)
SELECT '+9198' || lpad(c::text, 8, '0'), person, CASE WHEN slot IS NULL THEN 'fact' ELSE 'profile' END, slot,
    memory, %(agent)s, 'call-' || c || '-' || %(k)s,
    CASE WHEN slot IS NULL AND (c + %(k)s) %% 4 = 0 THEN ARRAY[gen_random_uuid()] ELSE '{{}}'::uuid[] END,
    md5(lower(memory)),
    -- correlated with the row (c > 0): uncorrelated, it runs once and every row has the same vector
    (SELECT array_agg(random() - 0.5) FROM generate_series(1, 256) WHERE c > 0)::extensions.vector,
    'job:bench', at, at
FROM worded,
    LATERAL (SELECT now() - make_interval(days => 30 * (10 - %(k)s), mins => (c * 7919) %% 40000) AS at) AS made_at
"""


def seed(url: str, tenant_id: str, callers: int) -> None:
    """`callers` × 10 memories in the office's schema, one statement per memory rank; then VACUUM ANALYZE."""
    from mla_core.core.names import main_agent_id
    from mla_core.memory import store

    table = store.table(tenant_id)
    params = {"callers": callers, "first": FIRST_NAMES, "second": SECOND_NAMES, "languages": LANGUAGES}
    params |= {"facts": FACTS, "agent": main_agent_id(tenant_id)}
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for rank in range(1, MEMORIES_PER_CALLER + 1):
            conn.execute(sql.SQL(_SEED).format(table=table), {**params, "k": rank})
        inserted = time.perf_counter()
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
        # The seed's dirty pages written out now, not by the checkpointer while queries are timed.
        conn.execute("CHECKPOINT")
        analysed = time.perf_counter()
        buffers = conn.execute("SHOW shared_buffers").fetchone()
        row = conn.execute(
            sql.SQL(
                "SELECT count(*), count(DISTINCT caller_phone), count(DISTINCT caller_phone) FILTER (WHERE person <> ''),"
                " (SELECT count(DISTINCT v) FROM (SELECT embedding::text AS v FROM {table} LIMIT 1000) AS first),"
                " pg_size_pretty(pg_total_relation_size({name}::regclass)) FROM {table}"
            ).format(name=sql.Literal(table.as_string(conn)), table=table)
        ).fetchone()
    assert row is not None and buffers is not None
    rows, phones, households, vectors, size = row
    assert rows == callers * MEMORIES_PER_CALLER and phones == callers and vectors == min(rows, 1000), row
    print(
        f"seeded {phones:,} callers × {MEMORIES_PER_CALLER} memories = {rows:,} rows ({households:,} households of"
        f" two, every embedding its own) in {inserted - started:.0f} s, VACUUM ANALYZE and CHECKPOINT"
        f" {analysed - inserted:.0f} s; the table with its indexes: {size} (shared_buffers {buffers[0]})"
    )


# The SQL a store function sends, to run it directly ---------------------------------------------------


class SqlRecorder:
    """Stands in for a connection: keeps what a store function would send (its SQL text and parameters)
    and runs nothing, so that the baseline runs that very text."""

    def __init__(self, context: psycopg.Connection[Any]) -> None:
        self.context = context
        self.sent: list[tuple[str, Any]] = []

    def execute(self, query: sql.Composable | str, params: Any = None) -> SqlRecorder:
        self.sent.append((query if isinstance(query, str) else query.as_string(self.context), params))
        return self

    def fetchall(self) -> list[Any]:
        return []


def sent_by(context: psycopg.Connection[Any], store_call: Callable[[Any], object]) -> tuple[str, Any]:
    recorder = SqlRecorder(context)
    store_call(recorder)
    [sent] = recorder.sent
    return sent


def plan(conn: psycopg.Connection[Any], text: str, params: Any) -> str:
    """The plan's nodes (first child down), rows, buffers and server time, on one line."""
    row = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {text}", params).fetchone()
    assert row is not None
    top = row[0][0]
    nodes, node = [], top["Plan"]
    while node is not None:
        nodes.append(node["Node Type"] + (f" ({node['Index Name']})" if "Index Name" in node else ""))
        node = (node.get("Plans") or [None])[0]
    root = top["Plan"]
    return (
        f"{' > '.join(nodes)}; {root['Actual Rows']:.0f} rows, buffers hit {root.get('Shared Hit Blocks', 0)}"
        f" read {root.get('Shared Read Blocks', 0)}; {top['Execution Time']:.2f} ms in the server"
    )


def baseline_connection(url: str) -> psycopg.Connection[Any]:
    """A plain connection, set as the product's are in what reaches the server: no server-side prepared
    statements (Supabase's transaction pooler keeps none), autocommit."""
    return psycopg.connect(url, autocommit=True, prepare_threshold=None)


# 1. Memory load at call start -------------------------------------------------------------------------


async def call_start_load(tenant: dict[str, Any], callers: int, runs: int) -> None:
    from mla_core.adapters import get_services
    from mla_core.agents.routing import resolve_call_tenant
    from mla_core.memory import memories, store

    services = get_services()
    tenant_id, dialed = str(tenant["tenant_id"]), str(tenant["phone_numbers"][0])
    metadata = json.dumps({"tenant_id": tenant_id})
    direct = baseline_connection(services.db.url)
    text, _ = sent_by(direct, lambda conn: store.for_call(conn, tenant_id, hit(callers)))
    assert not memories.for_call(services, tenant_id, hit(callers)).empty, "a seeded caller has no memories"

    def load(phone: str) -> object:
        return memories.for_call(services, tenant_id, phone)

    async def thread_hit() -> None:
        await asyncio.to_thread(load, hit(callers))

    async def thread_miss() -> None:
        await asyncio.to_thread(load, miss())

    async def direct_hit() -> None:
        load(hit(callers))

    async def direct_miss() -> None:
        load(miss())

    async def sql_hit() -> None:
        direct.execute(text, (hit(callers), store.CALL_LOAD_LIMIT)).fetchall()

    async def by_number() -> None:
        assert await asyncio.to_thread(resolve_call_tenant, services, job_metadata="", dialed_number=dialed)

    async def by_metadata() -> None:
        assert await asyncio.to_thread(resolve_call_tenant, services, job_metadata=metadata, dialed_number=None)

    cases: dict[str, Callable[[], Awaitable[None]]] = {
        "load, caller with memories, in a thread": thread_hit,
        "load, unknown number, in a thread": thread_miss,
        "load, caller with memories, direct": direct_hit,
        "load, unknown number, direct": direct_miss,
        "the same SQL, plain psycopg (baseline)": sql_hit,
        "tenant by dialed number, in a thread": by_number,
        "tenant by job metadata, in a thread": by_metadata,
    }
    times = await alternate(runs, cases)
    p50 = {name: statistics.median(values) for name, values in times.items()}
    p99 = {name: percentile(values, 0.99) for name, values in times.items()}
    load_hit = "load, caller with memories, in a thread"
    print(f"1. memory load at call start: memories.for_call, {runs} runs of each, alternating, ms")
    for name, values in times.items():
        print(f"   {name:<40} {quantiles(values)}")
    for resolution, what in (("tenant by dialed number, in a thread", "2 Redis GETs"),
                             ("tenant by job metadata, in a thread", "1 Redis GET")):  # fmt: skip
        print(
            f"   load (hit, thread) / {resolution.removesuffix(', in a thread')} ({what}):"
            f" p50 {p50[load_hit] / p50[resolution]:.2f}x  p99 {p99[load_hit] / p99[resolution]:.2f}x"
        )
    baseline = "the same SQL, plain psycopg (baseline)"
    print(
        f"   load (hit, direct) / the same SQL: p50 {p50['load, caller with memories, direct'] / p50[baseline]:.2f}x"
        f"  p99 {p99['load, caller with memories, direct'] / p99[baseline]:.2f}x"
        " (the pool's checkout check, BEGIN and COMMIT, dict rows, the model)"
    )
    print(f"   plan of a hit:  {plan(direct, text, (hit(callers), store.CALL_LOAD_LIMIT))}")
    print(f"   plan of a miss: {plan(direct, text, (miss(), store.CALL_LOAD_LIMIT))}")
    print(f"   goal, p99 of a caller's load in a thread (as the agent): {verdict(p99[load_hit], GOAL_LOAD_P99_MS)}")
    print(f"   and unknown numbers: {verdict(p99['load, unknown number, in a thread'], GOAL_LOAD_P99_MS)}")
    direct.close()


# 2. Search --------------------------------------------------------------------------------------------


class PrecomputedEmbeddings:
    """The embeddings service answered from vectors computed before, so a search times its database part."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[text] for text in texts]


def search(tenant: dict[str, Any], callers: int, runs: int, warmup: int = 50) -> None:
    from mla_core.adapters import get_services
    from mla_core.memory import filters, memories, store
    from mla_core.memory.models import MemorySearch

    services = get_services()
    tenant_id = str(tenant["tenant_id"])
    embedder = services.openai
    embed_ms = []
    for index in range(runs // 4 + 10):
        started = time.perf_counter()
        embedder.embed([QUERIES[index % len(QUERIES)]])
        if index >= 10:
            embed_ms.append((time.perf_counter() - started) * 1000)
    vectors = dict(zip(QUERIES, embedder.embed(QUERIES), strict=True))

    direct = baseline_connection(services.db.url)

    def nearest_sql(body: MemorySearch) -> str:
        text, _ = sent_by(
            direct,
            lambda conn: store.nearest(
                conn, tenant_id, vectors[body.query], filters.where(body.filters), top_k=body.top_k,
                threshold=body.threshold,
            ),
        )  # fmt: skip
        return text

    ours: list[float] = []
    bare: list[float] = []
    found: list[int] = []
    services.__dict__["openai"] = PrecomputedEmbeddings(vectors)  # Services caches its adapters there
    try:
        for index in range(runs + warmup):
            body = MemorySearch(query=random.choice(QUERIES), filters={"user_id": hit(callers)})
            text = nearest_sql(body)
            # The same caller and query both ways, in turn first: neither always finds the other's pages.
            for side in ("ours", "bare") if index % 2 else ("bare", "ours"):
                started = time.perf_counter()
                if side == "ours":
                    found.append(len(memories.search(services, tenant_id, body)))
                else:
                    direct.execute(text).fetchall()
                if index >= warmup:
                    (ours if side == "ours" else bare).append((time.perf_counter() - started) * 1000)
        example = text
    finally:
        services.__dict__["openai"] = embedder
    print(f"2. search for a caller (top_k 10 of their memories, exact cosine distance), {runs} runs, ms")
    print(f"   memories.search, database part    {quantiles(ours)}   ({statistics.mean(found):.1f} memories found)")
    print(f"   the same SQL, plain psycopg       {quantiles(bare)}")
    print(
        f"   ratio: p50 {statistics.median(ours) / statistics.median(bare):.2f}x"
        f"  p95 {percentile(ours, 0.95) / percentile(bare, 0.95):.2f}x"
    )
    print(f"   plan: {plan(direct, example, None)}")
    print(f"   the embeddings call, local stand-in (WordLlama over HTTP) {quantiles(embed_ms)}")
    print("   (production's embeddings call is a network round trip to OpenAI: not measurable here, add it)")
    print(f"   goal, p95 of the database part: {verdict(percentile(ours, 0.95), GOAL_SEARCH_P95_MS)}")
    direct.close()


# 3. Call setup, memory on vs off ----------------------------------------------------------------------

SIDES = ("caller with memories", "number without memories", "hidden number")


async def call_setup(tenant: dict[str, Any], callers: int, calls: int) -> None:
    from livekit.agents.testing import fake_job_context

    from agent_pool.call import CallIO, CallRequest, CallTimings, start_call
    from agent_pool.testing import ScriptedLLM
    from mla_core.adapters import get_services
    from mla_core.memory import store

    services = get_services()
    metadata = json.dumps({"tenant_id": str(tenant["tenant_id"])})
    marks = [name for name, value in vars(CallTimings).items() if isinstance(value, property) and name.endswith("_ms")]
    # Whether the call read caller memory at all: every read goes through `store.for_call`, counted here.
    loads = dict.fromkeys(SIDES, 0)
    side_now = [SIDES[0]]
    for_call = store.for_call

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads[side_now[0]] += 1
        return for_call(*args, **kwargs)

    def number(side: str) -> str | None:
        return {SIDES[0]: hit(callers), SIDES[1]: miss(), SIDES[2]: None}[side]

    async def one(side: str, index: int) -> CallTimings:
        side_now[0] = side
        with fake_job_context(job_id=f"memory-{index}"):
            request = CallRequest(
                room_name=f"memory-{index}-{time.time_ns()}", job_metadata=metadata, caller_number=number(side)
            )
            run = await start_call(request, services, CallIO(llm_factory=lambda _settings: ScriptedLLM()))
            assert not run.rejected
            await run.finish()
            return run.timings

    setattr(store, "for_call", counted)  # noqa: B010 - a counter around the product's function, removed below
    try:
        for index in range(8):  # warm: imports, pools, the office's config in Redis
            await one(SIDES[index % 3], index)
        loads.update(dict.fromkeys(SIDES, 0))
        samples: dict[str, dict[str, list[float]]] = {side: {mark: [] for mark in marks} for side in SIDES}
        orders = list(itertools.permutations(SIDES))  # each side after each other as often as the others
        for index in range(calls):
            for side in orders[index % len(orders)]:
                timings = await one(side, 1000 + index * 3 + SIDES.index(side))
                for mark in marks:
                    samples[side][mark].append(getattr(timings, mark))
                # What a closed session leaves on the loop ends before the next call: a worker gives each
                # call its own process, where nothing of the previous call runs during this one's setup.
                await asyncio.sleep(0.05)
    finally:
        setattr(store, "for_call", for_call)  # noqa: B010
    print(f"3. call setup in text mode (start_call as bench.agent_setup), {calls} calls a side, alternating, ms")
    for mark in marks:
        for side in SIDES:
            print(f"   {mark:<14} {side:<24} {quantiles(samples[side][mark])}")
        on = samples[SIDES[0]][mark]
        for other in SIDES[1:]:
            off = samples[other][mark]
            print(
                f"   {mark:<14} with memories - {other + ':':<24} p50 {statistics.median(on) - statistics.median(off):+.2f}"
                f" ms  p99 {percentile(on, 0.99) - percentile(off, 0.99):+.2f} ms"
            )
    print("   caller memory read (store.for_call): " + ", ".join(f"{side} {loads[side]}/{calls}" for side in SIDES))
    if not any(loads.values()):
        print("   start_call does not read caller memory yet: the sides differ only in the caller's number")


# 4. Audio: a call with memories and one without -------------------------------------------------------


def audio_calls(tenant: dict[str, Any], callers: int, turns: int, rounds: int) -> None:
    from agent_pool import plugins
    from agent_pool.testing_audio import speech
    from bench.agent_audio import REPLY, our_call
    from mla_core.adapters import get_services

    services = get_services()
    dialed = str(tenant["phone_numbers"][0])
    pcm = speech(REPLY, "en", words_per_minute=200)
    vad_model = plugins.load_vad()
    sides = ("with memories", "without")
    kinds = ("greeting", "turn", "greeting wall", "turn wall")
    figures: dict[str, dict[str, list[float]]] = {side: {kind: [] for kind in kinds} for side in sides}
    for round_ in range(rounds + 1):
        for side in sides if round_ % 2 else sides[::-1]:
            caller = hit(callers) if side == "with memories" else miss()
            room = f"memory-audio-{time.time_ns()}"
            line = asyncio.run(our_call(services, vad_model, pcm, dialed, room, turns, caller=caller))
            if round_ == 0:
                continue  # warm-up
            at, perf = min(line.ears.first_frame.values())
            figures[side]["greeting"].append(at * 1000)
            figures[side]["greeting wall"].append((perf - line.clock.marks[0][1]) * 1000)  # from the first frame sent
            figures[side]["turn"].extend(t.audio_ms for t in line.turns if t.audio_ms is not None)
            figures[side]["turn wall"].extend(t.wall_ms for t in line.turns if t.wall_ms is not None)
    print(
        f"4. audio calls (bench.agent_audio's), {rounds} a side, {turns} turns each, alternating; audio and wall time"
    )
    for what in kinds:
        on, off = figures["with memories"][what], figures["without"][what]
        print(
            f"   {what:<13} with memories p50 {statistics.median(on):6.1f} p95 {percentile(on, 0.95):6.1f} ms"
            f"   without p50 {statistics.median(off):6.1f} p95 {percentile(off, 0.95):6.1f} ms"
            f"   difference p50 {statistics.median(on) - statistics.median(off):+.1f} ms"
            f" p95 {percentile(on, 0.95) - percentile(off, 0.95):+.1f} ms  (n={len(on)}, {len(off)})"
        )
    print("   audio time moves in 20 ms frames; the LLM is a double, so the prompt's memory lines cost nothing here")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--callers", type=int, default=100_000, help="callers in the office, 10 memories each")
    parser.add_argument("--runs", type=int, default=2000, help="runs of each measured query")
    parser.add_argument("--calls", type=int, default=100, help="text-mode calls a side for the call setup")
    parser.add_argument("--audio", action="store_true", help="also audio calls with memories and without")
    parser.add_argument("--audio-turns", type=int, default=5)
    parser.add_argument("--audio-rounds", type=int, default=3, help="audio calls a side")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the product's INFO events (calls answered, live updates) and warnings
    if args.audio:
        from bench.agent_audio import render

        render()  # before anything is timed (espeak-ng, or build/speech/)
    started = time.perf_counter()
    with local_stack() as env:
        [tenant] = create_tenants(env, 1, ["en"])
        seed(env["DATABASE_URL"], str(tenant["tenant_id"]), args.callers)
        asyncio.run(call_start_load(tenant, args.callers, args.runs))
        search(tenant, args.callers, args.runs)
        asyncio.run(call_setup(tenant, args.callers, args.calls))
        if args.audio:
            audio_calls(tenant, args.callers, args.audio_turns, args.audio_rounds)
    print(f"({time.perf_counter() - started:.0f} s in all; a machine other work shares gives noisy figures)")


if __name__ == "__main__":
    main()
