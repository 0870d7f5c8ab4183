"""A Redis outage during a run of calls: calls answered and complaints taken (goal: all).

Twenty calls in text mode (the real agent, tools, Postgres and SNS; a scripted LLM), each logging a
complaint, paced so that the middle half of them falls inside an outage: the local stack's
redis-server really stopped for `--outage` seconds (60 by default), then started again on the same
port and data. The same twenty calls with Redis up, in the same run, are the baseline. Per phase:
calls answered (greeted by their office), complaints taken (stored, with the reference the caller
heard), and the medians of the call setup (entrypoint start → greeting requested) and of the turn
that logs the complaint. Calls are dialed by number, without job metadata, so that both the tenant
and its config need Redis or, in the outage, Postgres.
Run: `.venv/bin/python -m bench.redis_outage [--outage 60] [--calls 20]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Phase = str
PHASES: tuple[Phase, ...] = ("before", "during", "after")


@dataclass
class Tally:
    calls: int = 0
    answered: int = 0
    taken: int = 0
    postgres_references: int = 0
    references: list[int] = field(default_factory=list)
    setup_ms: list[float] = field(default_factory=list)
    complaint_ms: list[float] = field(default_factory=list)


async def one_call(services: Any, tenant: dict[str, Any], caller: str, tally: Tally) -> None:
    from agent_pool.call import text_call
    from agent_pool.testing import CallTool, Say, ScriptedLLM
    from mla_core.complaints.store import REFERENCE_CEILING

    draft = {"category": "water", "description": "No drinking water for three days", "location": "Ward 12"}
    llm = ScriptedLLM([CallTool("log_complaint", draft), Say("Registered.")])
    tally.calls += 1
    async with text_call(services, llm, dialed_number=tenant["phone_numbers"][0], caller_number=caller) as run:
        if run.rejected:
            return
        tally.answered += 1
        tally.setup_ms.append(run.timings.setup_ms)
        started = time.perf_counter()
        await run.session.run(user_input="No water in Ward 12 for three days. Please register it.")
        tally.complaint_ms.append((time.perf_counter() - started) * 1000)
        logged = list(run.call.logged) if run.call else []
    if logged and _stored(services, tenant["tenant_id"], logged[-1].reference, caller):
        tally.taken += 1
        tally.postgres_references += logged[-1].reference > REFERENCE_CEILING
        tally.references.append(logged[-1].reference)


def _stored(services: Any, tenant_id: str, reference: int, caller: str) -> bool:
    from mla_core.complaints import store

    with services.db.transaction() as conn:
        return store.callers_complaint(conn, tenant_id, reference, caller) is not None


async def run_calls(
    services: Any, stack: Any, tenant: dict[str, Any], calls: int, outage_s: float | None
) -> dict[Phase, Tally]:
    """`calls` calls: a quarter before, half spread over the outage (if any), a quarter after."""
    tallies = {phase: Tally() for phase in PHASES}
    during = calls // 2
    before = (calls - during) // 2
    callers = (f"+9194{n:08d}" for n in range(int(time.time() * 1000) % 10**7, 10**8))
    for _ in range(before):
        await one_call(services, tenant, next(callers), tallies["before"])
    if outage_s is not None:
        stack.redis.stop()
    began = time.monotonic()
    for index in range(during):
        if outage_s is not None:  # spread over the outage: the last call just before Redis returns
            await asyncio.sleep(max(0.0, began + index * outage_s / during - time.monotonic()))
        await one_call(services, tenant, next(callers), tallies["during"])
    if outage_s is not None:
        await asyncio.sleep(max(0.0, began + outage_s - time.monotonic()))
        stack.restart_redis()
    for _ in range(calls - before - during):
        await one_call(services, tenant, next(callers), tallies["after"])
    return tallies


def median(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f}" if values else "       -"


def report(label: str, tallies: dict[Phase, Tally]) -> None:
    total = Tally()
    for tally in tallies.values():
        total.calls += tally.calls
        total.answered += tally.answered
        total.taken += tally.taken
        total.references += tally.references
    distinct = "all distinct" if len(set(total.references)) == len(total.references) else "DUPLICATES"
    print(
        f"  {label}: {total.answered}/{total.calls} calls answered, {total.taken}/{total.calls} complaints taken,"
        f" references heard {distinct}"
    )
    for phase in PHASES:
        t = tallies[phase]
        print(
            f"    {phase:<7} {t.answered:>2}/{t.calls:<2} answered {t.taken:>2}/{t.calls:<2} taken"
            f" ({t.postgres_references} references from Postgres)"
            f"   setup p50 {median(t.setup_ms)} ms   complaint turn p50 {median(t.complaint_ms)} ms"
        )


async def main_async(stack: Any, calls: int, outage_s: float) -> None:
    from bench.agent_stack import create_tenants
    from mla_core.adapters import get_services

    services = get_services()
    [tenant] = create_tenants(stack.env, 1, ["en"])
    for index in range(3):  # warm up: imports, pools, the tenant's config in Redis
        await one_call(services, tenant, f"+91950000000{index}", Tally())
    baseline = await run_calls(services, stack, tenant, calls, None)
    outage = await run_calls(services, stack, tenant, calls, outage_s)
    print(f"a {outage_s:g} s Redis outage during a {calls}-call run (goal: every call answered, every complaint taken)")
    report("baseline, Redis up", baseline)
    report(f"Redis stopped for {outage_s:g} s", outage)
    print(
        "  'after': Postgres still gives references until upstash_unreachable_backoff_s has passed since Redis's"
        " last failure"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds Redis stays stopped")
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the outage's warnings, one per call, are the point, not the output
    from local_stack.stack import LocalStack

    # In this process (not apart, as the agent benchmarks run it): the outage stops its redis-server.
    stack = LocalStack(root=Path(tempfile.mkdtemp(prefix="redis-outage-")), ephemeral_ports=True).start()
    try:
        asyncio.run(main_async(stack, args.calls, args.outage))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
