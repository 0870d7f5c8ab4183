"""Memory per concurrent call, against LiveKit's budget of 8 GB per 25 sessions (≈ 328 MB each).

Two figures, because the worker can host calls two ways:
- in one process (asyncio tasks, text mode, the full `GrievanceAgent`, each call greeted and a
  complaint logged, all kept open): RSS before and after N = 25 and 50 calls, MB per call;
- one process per call, LiveKit's default: what one prewarmed job process holds before its call
  (the worker module and plugins imported, Silero loaded, Redis and Postgres clients built),
  measured in a fresh interpreter: RSS and USS (its own pages; the forkserver shares the rest).
Run: `.venv/bin/python -m bench.agent_memory [--sessions 25 50]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import subprocess
import sys
import time

import psutil

from bench.agent_stack import create_tenants, local_stack

BUDGET_MB = 8 * 1024 / 25

_JOB_PROCESS = """
import json, os, psutil
from livekit.agents import JobProcess
from livekit.agents.job import JobExecutorType
import agent_pool.worker as worker
proc = JobProcess(executor_type=JobExecutorType.PROCESS, user_arguments=None, http_proxy=None)
worker.prewarm(proc)
from mla_core.adapters import get_services
from mla_core.agents.routing import resolve_call_tenant
assert resolve_call_tenant(get_services(), job_metadata=os.environ["BENCH_METADATA"], dialed_number=None)
info = psutil.Process().memory_full_info()
print(json.dumps({"rss": info.rss, "uss": info.uss}))
"""


def rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


async def in_one_process(tenant_ids: list[str], counts: list[int]) -> list[tuple[int, float, float]]:
    from agent_pool.call import CallRun, text_call
    from agent_pool.testing import CallTool, Say, ScriptedLLM
    from mla_core.adapters import get_services

    services = get_services()
    water = {"category": "water", "description": "No water for three days", "location": "Ward 12, Nehru Street"}

    async def open_call(stack: contextlib.AsyncExitStack, index: int) -> CallRun:
        llm = ScriptedLLM([CallTool("log_complaint", water), Say("Your reference is 1 0 0 1.")])
        metadata = json.dumps({"tenant_id": tenant_ids[index % len(tenant_ids)]})
        run = await stack.enter_async_context(
            text_call(
                services,
                llm,
                dialed_number=None,
                caller_number=f"+9194{time.time_ns() % 10**8:08d}",
                job_metadata=metadata,
            )
        )
        await run.session.run(user_input="Yes, please register it.")
        return run

    async with contextlib.AsyncExitStack() as warm:  # imports, pools and caches, outside the measure
        for index in range(3):
            await open_call(warm, index)

    results = []
    for count in counts:
        before = rss_mb()
        async with contextlib.AsyncExitStack() as stack:
            runs = [await open_call(stack, index) for index in range(count)]
            assert all(run.call is not None and run.call.logged for run in runs)
            after = rss_mb()
        results.append((count, before, after))
    return results


def one_process_per_call(tenant_id: str) -> dict[str, float]:
    env = {**os.environ, "BENCH_METADATA": json.dumps({"tenant_id": tenant_id})}
    samples = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", _JOB_PROCESS], env=env, capture_output=True, text=True, check=True
        ).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    return {key: sorted(s[key] for s in samples)[1] / 2**20 for key in ("rss", "uss")}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[25, 50])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with local_stack() as env:
        tenant_ids = [str(t["tenant_id"]) for t in create_tenants(env, 3, ["ta", "hi", "en"])]
        results = asyncio.run(in_one_process(tenant_ids, args.sessions))
        job = one_process_per_call(tenant_ids[0])

    print(f"memory per concurrent call; LiveKit's budget: 8 GB / 25 sessions = {BUDGET_MB:.0f} MB per call")
    print("in one process (text mode, full agent, a complaint logged, calls kept open):")
    for count, before, after in results:
        per_call = (after - before) / count
        print(
            f"  {count:3d} calls: RSS {before:6.0f} -> {after:6.0f} MB, {per_call:5.2f} MB per call "
            f"({per_call / BUDGET_MB:.1%} of the budget)"
        )
    print("one process per call (LiveKit's default), a prewarmed job process before its call:")
    print(
        f"  RSS {job['rss']:.0f} MB, USS {job['uss']:.0f} MB ({job['uss'] / BUDGET_MB:.0%} of the budget by USS; "
        f"25 such processes: {25 * job['uss'] / 1024:.1f} GB USS, {25 * job['rss'] / 1024:.1f} GB RSS)"
    )
    print("  audio buffers, STT/TTS websockets and the LLM context of a live phone call come on top")


if __name__ == "__main__":
    main()
