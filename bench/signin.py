"""How long a refused sign-in takes, by why it was refused (issue 12, item 6: a wrong password, an
unknown email and a disabled login get the same answer; this checks they take the same time too).

Supabase Auth refuses an unknown email and a banned (disabled) login before it hashes the password,
so without more those answers come back sooner than a wrong password's (GoTrue does the same with
bcrypt; the stand-in with scrypt). `POST /auth/login` answers every failure no sooner than
`signin_failure_floor_s` after it began. Against the local stack, in-process (the dashboard API's
app over ASGI), alternating the cases in rounds, twice: with the floor as configured, and with no
floor (what the vendor alone leaks). The limits are lifted for the run (one client address).
Prints medians and each case's ratio to the wrong password measured in the same run.
Run: `.venv/bin/python -m bench.signin [--runs 40]`.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.agent_stack import alternate

PASSWORD = "bench office password"


def report(title: str, times: dict[str, list[float]], baseline: str) -> None:
    print(title)
    base = statistics.median(times[baseline])
    for name, values in times.items():
        p50 = statistics.median(values)
        spread = statistics.quantiles(values, n=10)
        print(
            f"  {name:<34} p50 {p50:7.1f} ms  (p10 {spread[0]:6.1f}, p90 {spread[-1]:6.1f})"
            f"   ×{p50 / base:4.2f} of {baseline}"
        )


def accepted(api: httpx.Client, email: str) -> None:
    """Accept the newest invitation emailed to `email`, with `PASSWORD`."""
    message = next(m for m in api.get("/local/outbox").json()["data"] if m["to"] == email)
    token = httpx.QueryParams(re.search(r"token=([A-Za-z0-9_\-%.]+)", message["body"]).group(0))["token"]  # type: ignore[union-attr]
    response = api.post("/auth/register", json={"token": token, "password": PASSWORD})
    assert response.status_code == 201, response.text


async def main_async(stack: Any, runs: int) -> None:
    from bench.agent_stack import create_tenants
    from local_stack.template import function
    from mla_core.adapters import get_services

    settings = get_services().settings
    settings.signin_failure_limit = 10**9  # one address signs in thousands of times here
    tenant = create_tenants(stack.env, 1, ["en"])[0]
    api = httpx.Client(base_url=stack.env["API_URL"], timeout=30)
    office_email = str(tenant["admin_email"])
    accepted(api, office_email)
    token = api.post("/auth/login", json={"email": office_email, "password": PASSWORD}).json()["data"]["access_token"]
    staff_email = f"disabled-{time.time_ns()}@example.in"
    invited = api.post("/api/users/invite", json={"email": staff_email}, headers={"Authorization": f"Bearer {token}"})
    accepted(api, staff_email)
    disabled = api.patch(
        f"/api/users/{invited.json()['data']['id']}",
        json={"disabled": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert disabled.status_code == 200, disabled.text

    dashboard = function("DashboardFunction").import_module().app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=dashboard), base_url="http://bench") as client:

        def attempt(email: str, password: str, status: int) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                response = await client.post("/auth/login", json={"email": email, "password": password})
                assert response.status_code == status, response.text

            return run

        cases = {
            "wrong password": attempt(office_email, "not the password", 401),
            "unknown email": attempt(f"nobody-{time.time_ns()}@example.in", PASSWORD, 401),
            "disabled login, right password": attempt(staff_email, PASSWORD, 401),
            "disabled login, wrong password": attempt(staff_email, "not the password", 401),
            "right password (signed in)": attempt(office_email, PASSWORD, 200),
        }
        floor = settings.signin_failure_floor_s
        with_floor = await alternate(runs, cases, warmup=3)
        report(f"POST /auth/login as deployed (floor {floor:.2f} s), {runs} runs each", with_floor, "wrong password")
        settings.signin_failure_floor_s = 0.0
        without = await alternate(runs, cases, warmup=3)
        report(f"POST /auth/login with no floor (the vendor alone), {runs} runs each", without, "wrong password")


def main() -> None:
    from bench.agent_stack import run_against_stack

    run_against_stack(__doc__, main_async, runs=40)


if __name__ == "__main__":
    main()
