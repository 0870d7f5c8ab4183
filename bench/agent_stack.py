"""The local stack for the benchmarks, and tenants on it: in a child process for the agent benchmarks
(the stack, Postgres, Redis, moto and the stand-ins, runs apart so that the benchmark process holds only
what an agent worker holds: its CPU time and memory are the agent's), or in this process for the ones
that time requests (`run_against_stack`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

_CHILD = """
import sys
from pathlib import Path
from typing import Any
from local_stack.stack import LocalStack
stack = LocalStack(root=Path(sys.argv[1]), ephemeral_ports=True).start()
print("ready", flush=True)
sys.stdin.read()
stack.stop()
"""


@contextlib.contextmanager
def local_stack() -> Iterator[dict[str, str]]:
    """Start the stack, put its settings in os.environ (as `.local/dev.env` would), yield them."""
    root = Path(tempfile.mkdtemp(prefix="agent-bench-"))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("the local stack did not start")
        env = dict(line.split("=", 1) for line in (root / "dev.env").read_text().splitlines() if "=" in line)
        os.environ.update(env)
        yield env
    finally:
        with contextlib.suppress(Exception):
            assert child.stdin is not None
            child.stdin.close()
        child.wait(timeout=60)


async def alternate(
    runs: int, cases: Mapping[str, Callable[[], Awaitable[Any]]], *, warmup: int = 50
) -> dict[str, list[float]]:
    """Each case once per round, in turn (so the machine's drift falls on all of them alike), `runs` rounds
    after `warmup` rounds; milliseconds."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(runs + warmup):
        for name, case in cases.items():
            started = time.perf_counter()
            await case()
            if round_ >= warmup:
                times[name].append((time.perf_counter() - started) * 1000)
    return times


def run_against_stack(
    doc: str | None, main_async: Callable[[Any, int], Coroutine[Any, Any, None]], *, runs: int
) -> None:
    """A benchmark's `main`: its `--runs`, then `main_async(stack, runs)` against a local stack started in
    this process (its settings in os.environ) and stopped after."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=runs)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from local_stack.stack import LocalStack

    stack = LocalStack(root=Path(tempfile.mkdtemp(prefix="bench-")), ephemeral_ports=True, schedules=False).start()
    try:
        asyncio.run(main_async(stack, args.runs))
    finally:
        stack.stop()


def create_tenants(env: dict[str, str], count: int, languages: list[str]) -> list[dict[str, object]]:
    api = env["API_URL"]
    login = httpx.post(
        f"{api}/auth/login", json={"email": env["SUPERADMIN_EMAIL"], "password": env["SUPERADMIN_PASSWORD"]}, timeout=30
    )
    token = login.json()["data"]["access_token"]
    tenants = []
    for index in range(count):
        number = f"+9192{(time.time_ns() // 1000 + index) % 10**8:08d}"
        body = {
            "mla_name": f"Bench MLA {index}",
            "constituency": "Mylapore",
            "state": "Tamil Nadu",
            "languages": languages,
            "phone_numbers": [number],
            "admin_email": f"agent-bench{index}-{time.time_ns()}@example.in",
        }
        response = httpx.post(
            f"{api}/admin/tenants",
            params={"wait": "true"},
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        if response.status_code != 201:
            raise SystemExit(f"tenant {index} did not go live: {response.status_code} {response.text}")
        tenants.append(response.json()["data"])
    return tenants


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
