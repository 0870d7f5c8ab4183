"""Call setup overhead of our agent code: entrypoint start → greeting requested.

`agent_pool.call.start_call` is timed from its first line to the `session.say(greeting)` call, in
text mode (no room, no audio; a scripted LLM), with 1 call at a time and with 50 concurrent calls
in one process. Baseline in the same run: a bare `AgentSession` started with a one-line `Agent`
and told to say a sentence, no tenant logic. Also: tenant + config resolution on a warm cache.
Goals: setup p99 ≤ 50 ms; resolution p99 ≤ 5 ms.
Run: `.venv/bin/python -m bench.agent_setup [--sequential 100] [--concurrent 50] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import statistics
import time
from collections.abc import Awaitable, Callable

from bench.agent_stack import create_tenants, local_stack, percentile

Measure = Callable[[int], Awaitable[float]]


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values):7.2f}  p99 {percentile(values, 0.99):7.2f}"


async def main_async(sequential: int, concurrent: int, rounds: int) -> None:
    from livekit.agents import Agent, AgentSession
    from livekit.agents.testing import fake_job_context

    from agent_pool.call import CallIO, CallRequest, start_call
    from agent_pool.testing import ScriptedLLM
    from mla_core.adapters import get_services
    from mla_core.agents.routing import resolve_call_tenant

    env = dict(__import__("os").environ)
    tenants = create_tenants(env, 4, ["ta", "en"])
    services = get_services()
    # The production path: the SIP dispatch rule puts the tenant in the job metadata.
    metadata = itertools.cycle([json.dumps({"tenant_id": t["tenant_id"]}) for t in tenants])
    callers = (f"+9193{n:08d}" for n in itertools.count(int(time.time()) % 10**7))

    async def ours(index: int) -> float:
        with fake_job_context(job_id=f"bench-{index}"):
            request = CallRequest(
                room_name=f"bench-{index}-{time.time_ns()}", job_metadata=next(metadata), caller_number=next(callers)
            )
            run = await start_call(request, services, CallIO(llm_factory=lambda _settings: ScriptedLLM()))
            assert not run.rejected
            await run.finish()
            return run.timings.setup_ms

    async def baseline(index: int) -> float:
        with fake_job_context(job_id=f"baseline-{index}"):
            started = time.perf_counter()
            session: AgentSession[None] = AgentSession(
                llm=ScriptedLLM(), vad=None, turn_handling={"turn_detection": "manual"}
            )
            await session.start(Agent(instructions="You are a helpful assistant."))
            requested = time.perf_counter()
            session.say("Hello! How can I help you today?")
            await session.aclose()
            return (requested - started) * 1000

    async def open_call(index: int) -> object:
        """A call that stays in progress: greeted, waiting for the caller to speak."""
        with fake_job_context(job_id=f"busy-{index}"):
            request = CallRequest(
                room_name=f"busy-{index}-{time.time_ns()}", job_metadata=next(metadata), caller_number=next(callers)
            )
            run = await start_call(request, services, CallIO(llm_factory=lambda _settings: ScriptedLLM()))
            await run.wait_greeted()
            return run

    async def batch(measure: Measure, size: int, offset: int) -> list[float]:
        return list(await asyncio.gather(*(measure(offset + i) for i in range(size))))

    # Warm up: imports, connection pools, the Redis client, every tenant's config in Redis.
    for index in range(8):
        await ours(index)
        await baseline(index)

    samples: dict[str, list[float]] = {"ours 1": [], "base 1": [], f"ours {concurrent}": [], f"base {concurrent}": []}
    cpu = {"ours": 0.0, "base": 0.0}  # CPU seconds of the whole process (all threads) per call, setup and close
    for index in range(sequential):  # interleaved, so machine noise falls on both alike
        started = time.process_time()
        samples["ours 1"].append(await ours(10_000 + index))
        cpu["ours"] += time.process_time() - started
        started = time.process_time()
        samples["base 1"].append(await baseline(10_000 + index))
        cpu["base"] += time.process_time() - started
    for round_ in range(rounds):
        offset = 100_000 * (round_ + 1)
        samples[f"ours {concurrent}"] += await batch(ours, concurrent, offset)
        samples[f"base {concurrent}"] += await batch(baseline, concurrent, offset)

    # Concurrent calls as a worker sees them: calls overlap, they do not all start in the same
    # millisecond. With `concurrent - 1` calls in progress, new calls arrive one after another.
    busy = [await open_call(200_000 + i) for i in range(concurrent - 1)]
    samples["ours busy"], samples["base busy"] = [], []
    for index in range(sequential):
        samples["ours busy"].append(await ours(300_000 + index))
        samples["base busy"].append(await baseline(300_000 + index))
        await asyncio.sleep(0.005)  # the calls in progress get their turn on the loop
    for run in busy:
        await run.finish()  # type: ignore[attr-defined]

    by_metadata: list[float] = []
    by_number: list[float] = []
    for tenant in itertools.islice(itertools.cycle(tenants), 400):
        job_metadata = json.dumps({"tenant_id": tenant["tenant_id"]})
        started = time.perf_counter()
        assert resolve_call_tenant(services, job_metadata=job_metadata, dialed_number=None) is not None
        by_metadata.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        dialed = str(tenant["phone_numbers"][0])  # type: ignore[index]
        assert resolve_call_tenant(services, job_metadata="", dialed_number=dialed) is not None
        by_number.append((time.perf_counter() - started) * 1000)

    print("call setup: entrypoint start -> greeting requested, text mode, ms (goal p99 <= 50)")
    rows = (
        ("1 call at a time", "1"),
        (f"{concurrent - 1} calls in progress", "busy"),
        (f"{concurrent} starting at once", str(concurrent)),
    )
    for label, key in rows:
        mine, base = samples[f"ours {key}"], samples[f"base {key}"]
        ratio = statistics.median(mine) / statistics.median(base)
        print(f"  {label:<22} ours {ms(mine)}   baseline {ms(base)}   ratio p50 {ratio:4.2f}x  (n={len(mine)})")
    print(
        f"  CPU per call (start, greet, close, record): ours {cpu['ours'] / sequential * 1000:.2f} ms, "
        f"baseline {cpu['base'] / sequential * 1000:.2f} ms"
    )
    print(f"  a burst of {concurrent} shares one event loop here; the worker gives each call its own process")
    print(f"  'in progress': each new call arrives while {concurrent - 1} others are open (greeted, waiting)")
    print("tenant + config resolution, warm cache, ms (goal p99 <= 5)")
    print(f"  by job metadata        {ms(by_metadata)}   (1 Redis GET)")
    print(f"  by dialed number       {ms(by_number)}   (2 Redis GETs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with local_stack():
        asyncio.run(main_async(args.sequential, args.concurrent, args.rounds))


if __name__ == "__main__":
    main()
