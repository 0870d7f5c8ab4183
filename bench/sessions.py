"""What reading the caller back costs each request (issue 12: a sign-out, a disabled login or a
deprovisioned office holds from the next request on).

Office routes already read the user's row and the office's status on every request; the check that
the session was not signed out rides on that same query (`accounts.signed_in`). Super admins were
not read back at all: now they are, with the same query. Against the local stack, alternating in one
process:
- the query alone: the office read-back before this change (user row + office status) against now
  (+ the session), and a super admin's read-back (new: before, none);
- a whole request through the function's app, in-process: `GET /api/complaints` for an office user
  and `GET /admin/tenants` for a super admin, with today's dependencies against a baseline that skips
  what changed (the office's old query; no read-back for the super admin).
Prints medians and ratios. Run: `.venv/bin/python -m bench.sessions [--runs 2000]`.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import Depends

from bench.agent_stack import alternate

_OLD_OFFICE_QUERY = (
    "SELECT t.status, u.role, u.disabled FROM platform.tenants t"
    " JOIN platform.users u ON u.user_id = %s AND u.tenant_id = t.tenant_id WHERE t.tenant_id = %s"
)


def report(title: str, times: dict[str, list[float]], baseline: str) -> None:
    print(title)
    base = statistics.median(times[baseline])
    for name, values in times.items():
        p50 = statistics.median(values)
        print(f"  {name:<44} p50 {p50:6.3f} ms   ×{p50 / base:4.2f} of {baseline}")


def signed_in_pair(env: dict[str, str], tenant: dict[str, Any]) -> tuple[str, str]:
    """A super admin's access token, and the new office's admin's once they accepted the welcome email."""
    api = httpx.Client(base_url=env["API_URL"], timeout=30)
    credentials = {"email": env["SUPERADMIN_EMAIL"], "password": env["SUPERADMIN_PASSWORD"]}
    admin = api.post("/auth/login", json=credentials).json()["data"]["access_token"]
    welcome = next(m for m in api.get("/local/outbox").json()["data"] if m["to"] == tenant["admin_email"])
    token = httpx.QueryParams(re.search(r"token=([A-Za-z0-9_\-%.]+)", welcome["body"]).group(0))["token"]  # type: ignore[union-attr]
    accepted = api.post("/auth/register", json={"token": token, "password": "bench office password"})
    return admin, accepted.json()["data"]["access_token"]


async def main_async(stack: Any, runs: int) -> None:
    from bench.agent_stack import create_tenants
    from local_stack.template import function
    from mla_core.adapters import get_services
    from mla_core.core.principal import OfficeUser, Principal
    from mla_core.http import deps
    from mla_core.identity import accounts

    services = get_services()
    admin, office_token = signed_in_pair(stack.env, create_tenants(stack.env, 1, ["en"])[0])
    office = {"token": office_token}
    office_caller = services.token_verifier.verify(office["token"])
    admin_caller = services.token_verifier.verify(admin)

    async def old_office_query() -> None:
        async with services.db.read() as conn:
            cursor = await conn.execute(_OLD_OFFICE_QUERY, (office_caller.user_id, office_caller.tenant_id))
            await cursor.fetchone()

    async def office_now() -> None:
        await accounts.signed_in(services, office_caller)

    async def admin_now() -> None:
        await accounts.signed_in(services, admin_caller)

    queries = await alternate(
        runs,
        {
            "office read-back before (user + office)": old_office_query,
            "office read-back now (+ session)": office_now,
            "super admin read-back now (before: none)": admin_now,
        },
    )
    report(f"the read-back query alone, {runs} runs each", queries, "office read-back before (user + office)")

    async def office_as_before(caller: Principal = Depends(deps.principal)) -> OfficeUser:
        async with services.db.read() as conn:
            cursor = await conn.execute(_OLD_OFFICE_QUERY, (caller.user_id, caller.tenant_id))
            row = await cursor.fetchone()
        assert row is not None and caller.tenant_id is not None
        return OfficeUser(caller.user_id, caller.email, row["role"], caller.tenant_id, caller.session_id)

    async def admin_as_before(caller: Principal = Depends(deps.principal)) -> Principal:
        return caller.require_role("super_admin")

    # Both sides are overrides (FastAPI builds an override's dependant on each request: that cost is
    # then on both sides); "now" is today's path, `deps.signed_in` and the role's check.
    async def office_as_now(caller: Principal = Depends(deps.principal)) -> OfficeUser:
        return accounts.as_office_user(await accounts.signed_in(services, caller))

    async def admin_as_now(caller: Principal = Depends(deps.principal)) -> Principal:
        return accounts.as_super_admin(await accounts.signed_in(services, caller))

    dashboard = function("DashboardFunction").import_module().app
    admin_api = function("AdminFunction").import_module().app
    transport = httpx.ASGITransport
    async with (
        httpx.AsyncClient(transport=transport(app=dashboard), base_url="http://bench") as office_client,
        httpx.AsyncClient(transport=transport(app=admin_api), base_url="http://bench") as admin_client,
    ):
        office_headers = {"Authorization": f"Bearer {office['token']}"}
        admin_headers = {"Authorization": f"Bearer {admin}"}

        def request(
            client: httpx.AsyncClient, app: Any, path: str, headers: dict[str, str], dep: Any, before: Any, now: Any
        ) -> Any:
            def with_override(override: Any) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    app.dependency_overrides[dep] = override
                    assert (await client.get(path, headers=headers)).status_code == 200

                return run

            return with_override(before), with_override(now)

        office_before, office_now_request = request(
            office_client,
            dashboard,
            "/api/complaints?limit=10",
            office_headers,
            deps.office_user,
            office_as_before,
            office_as_now,
        )
        admin_before, admin_now_request = request(
            admin_client,
            admin_api,
            "/admin/tenants?limit=10",
            admin_headers,
            deps.super_admin,
            admin_as_before,
            admin_as_now,
        )
        office_requests = await alternate(
            runs // 4, {"GET /api/complaints, before": office_before, "GET /api/complaints, now": office_now_request}
        )
        report(f"a whole office request, {runs // 4} runs each", office_requests, "GET /api/complaints, before")
        admin_requests = await alternate(
            runs // 4, {"GET /admin/tenants, before": admin_before, "GET /admin/tenants, now": admin_now_request}
        )
        report(f"a whole super admin request, {runs // 4} runs each", admin_requests, "GET /admin/tenants, before")


def main() -> None:
    from bench.agent_stack import run_against_stack

    run_against_stack(__doc__, main_async, runs=2000)


if __name__ == "__main__":
    main()
