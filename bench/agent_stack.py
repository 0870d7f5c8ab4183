"""The local stack in a child process, and tenants on it, for the agent benchmarks.

The stack (Postgres, Redis, moto, the stand-ins) runs apart so that the benchmark process holds
only what an agent worker holds: its CPU time and memory are the agent's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

_CHILD = """
import sys
from pathlib import Path
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
