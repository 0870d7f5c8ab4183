"""Test helpers: an HTTP client for the local API, tenant factories, and checks on the stand-ins."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import httpx

_numbers = itertools.count(int(time.time()) % 10_000_000)


def queue_drained(stack: Any, queue_url_name: str, timeout: float = 60) -> None:
    """Wait until the stack's queue (`COMPLAINT_QUEUE_URL`, `MEMORY_QUEUE_URL`) holds nothing, delivered
    or not: its poller deletes what the function handled and leaves what failed for a later delivery."""
    sqs = stack.moto.client("sqs")
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout
    while True:
        found = sqs.get_queue_attributes(QueueUrl=stack.env[queue_url_name], AttributeNames=names)
        if all(found["Attributes"][name] == "0" for name in names):
            return
        assert time.monotonic() < deadline, f"{queue_url_name}'s queue did not drain: {found['Attributes']}"
        time.sleep(0.2)


def invoke_lambda(handler: Any, event: dict[str, Any], function_name: str) -> dict[str, Any]:
    """Call a Lambda handler in-process as the Python runtime does, with an API Gateway event."""
    import asyncio
    from types import SimpleNamespace

    context = SimpleNamespace(
        function_name=function_name,
        function_version="$LATEST",
        memory_limit_in_mb=512,
        aws_request_id="test",
        invoked_function_arn=f"arn:aws:lambda:ap-south-1:123456789012:function:{function_name}",
    )
    # The runtime calls the handler on a main thread with an event loop Mangum can use; earlier
    # async tests may have closed this thread's, so give it a fresh one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return handler(event, context)  # type: ignore[no-any-return]
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def repairs_of(report: Any, tenant_id: str) -> list[str]:
    """The reconciler's actions on one tenant in a pass's report."""
    return [repair.action for repair in report.repairs if repair.tenant_id == tenant_id]


def unique_number() -> str:
    """A fresh Indian mobile number per call, so tests never collide on a number."""
    return f"+9190{next(_numbers) % 100_000_000:08d}"


def tenant_body(**overrides: Any) -> dict[str, Any]:
    n = next(_numbers)
    body = {
        "mla_name": "K. Selvi",
        "constituency": "Mylapore",
        "state": "Tamil Nadu",
        "languages": ["ta", "en"],
        "phone_numbers": [unique_number()],
        "admin_email": f"office{n}@selvi.example.in",
        "admin_name": "Selvi's office",
    }
    return {**body, **overrides}


class Api:
    """httpx against the local gateway, with the envelope unwrapped where a test wants data."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)

    @classmethod
    def for_stack(cls, stack: Any) -> Api:
        return cls(stack.env["API_URL"])

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {}) or {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def login(self, email: str, password: str) -> dict[str, Any]:
        response = self.http.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def create_tenant(self, token: str, body: dict[str, Any] | None = None, *, wait: bool = True) -> dict[str, Any]:
        response = self.request(
            "POST", "/admin/tenants", token, json=body or tenant_body(), params={"wait": "true"} if wait else None
        )
        assert response.status_code in (201, 202), response.text
        return response.json()["data"]

    def tenant(self, token: str, tenant_id: str) -> dict[str, Any]:
        response = self.request("GET", f"/admin/tenants/{tenant_id}", token)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def wait_for(self, token: str, tenant_id: str, *statuses: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            tenant = self.tenant(token, tenant_id)
            if tenant["status"] in statuses or time.monotonic() > deadline:
                assert tenant["status"] in statuses, tenant
                return tenant
            time.sleep(0.1)

    def outbox(self) -> list[dict[str, Any]]:
        response = self.http.get("/local/outbox")
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def invite_token_for(self, email: str) -> str:
        for message in self.outbox():
            if message["channel"] == "email" and message["to"] == email:
                match = re.search(r"token=([A-Za-z0-9_\-%.]+)", message["body"])
                assert match, message["body"]
                return httpx.QueryParams(f"token={match.group(1)}")["token"]
        raise AssertionError(f"no email to {email} in the outbox")

    def staff_of(self, office: dict[str, Any]) -> str:
        """A staff member invited by `office`'s admin, signed in: their access token."""
        email = f"staff.{office['tenant_id']}@office.example.in"
        assert self.request("POST", "/api/users/invite", office["token"], json={"email": email}).status_code == 201
        staff = self.http.post(
            "/auth/register", json={"token": self.invite_token_for(email), "password": "staff password 1"}
        )
        return str(staff.json()["data"]["access_token"])

    def office_admin(self, admin_token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A new active tenant whose admin accepted the invitation: the tenant with `token` and `user_id`."""
        body = body or tenant_body()
        tenant = self.create_tenant(admin_token, body)
        invite = self.invite_token_for(body["admin_email"])
        session = self.http.post("/auth/register", json={"token": invite, "password": "office password 1"}).json()
        return {**tenant, "token": session["data"]["access_token"], "user_id": session["data"]["user"]["id"]}


_loopback = itertools.count(1)


def from_own_address(base_url: str) -> httpx.Client:
    """A client of the local API whose connections come from a loopback address of its own
    (127.77.x.y): what it does counts for no other test's address (the sign-in limits)."""
    n = next(_loopback)
    transport = httpx.HTTPTransport(local_address=f"127.77.{n // 250}.{n % 250 + 1}")
    return httpx.Client(base_url=base_url, timeout=60, transport=transport)


class Pages:
    """The server-rendered pages as a browser without JavaScript uses them: the cookies carried by hand
    (they are `Secure`, which httpx keeps from plain http), the CSRF token read from each form."""

    def __init__(self, http: httpx.Client, **cookies: str) -> None:
        self.http = http
        self.cookies = dict(cookies)

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        header = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {**kwargs.pop("headers", {}), "Cookie": header}
        response = self.http.request(method, path, headers=headers, **kwargs)
        self.cookies.update(dict(response.cookies))
        return response

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on the page at `path`."""
        page = self.send("GET", path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def post(self, path: str, form_page: str | None = None, **form: str) -> httpx.Response:
        """Post `form` to `path` as the form on `form_page` (`path` unless given) would."""
        return self.send("POST", path, data={"csrf": self.csrf(form_page or path), **form})

    def sign_in(self, email: str, password: str, site: str = "/app") -> httpx.Response:
        return self.post(f"{site}/login", email=email, password=password, next="")


class Inspector:
    """Looks at every service directly, through its own SDK, to see what provisioning left."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def sql(self, query: Any, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def schema_exists(self, schema: str) -> bool:
        return bool(self.sql("SELECT 1 FROM pg_namespace WHERE nspname = %s", schema))

    def tables(self, schema: str) -> set[str]:
        rows = self.sql("SELECT tablename FROM pg_tables WHERE schemaname = %s", schema)
        return {row[0] for row in rows}

    def _livekit(self, fn: Any) -> Any:
        import asyncio

        from livekit import api

        async def run() -> Any:
            env = self.env
            async with api.LiveKitAPI(env["LIVEKIT_URL"], env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"]) as lk:
                return await fn(lk, api)

        return asyncio.run(run())

    def room(self, name: str) -> Any:
        async def find(lk: Any, api: Any) -> Any:
            rooms = (await lk.room.list_rooms(api.ListRoomsRequest(names=[name]))).rooms
            return rooms[0] if rooms else None

        return self._livekit(find)

    def dispatch_rules(self, rule_name: str) -> list[Any]:
        async def find(lk: Any, api: Any) -> list[Any]:
            listed = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
            return [rule for rule in listed.items if rule.name == rule_name]

        return self._livekit(find)

    def redis(self) -> Any:
        from upstash_redis import Redis

        return Redis(self.env["UPSTASH_REDIS_REST_URL"], self.env["UPSTASH_REDIS_REST_TOKEN"], rest_retries=0)

    def redis_get(self, key: str) -> Any:
        return self.redis().get(key)

    def auth_users(self, email: str) -> list[Any]:
        from supabase import create_client

        admin = create_client(self.env["SUPABASE_URL"], self.env["SUPABASE_SERVICE_ROLE_KEY"]).auth.admin
        return [user for user in admin.list_users(per_page=1000) if (user.email or "").lower() == email.lower()]

    def leftovers(self, tenant: dict[str, Any]) -> dict[str, Any]:
        """Everything of `tenant` still present anywhere; empty means no orphan."""
        tenant_id = tenant["tenant_id"]
        found: dict[str, Any] = {}
        if self.schema_exists(f"tenant_{tenant_id}"):
            found["schema"] = f"tenant_{tenant_id}"
        if self.room(f"mla-{tenant_id}") is not None:
            found["room"] = f"mla-{tenant_id}"
        if self.dispatch_rules(f"tenant-{tenant_id}"):
            found["dispatch_rule"] = f"tenant-{tenant_id}"
        agent_keys = [*self.redis().keys(f"agent:config:{tenant_id}*"), *self.redis().keys(f"agent:routes:{tenant_id}")]
        if agent_keys:
            found["agent_config"] = sorted(agent_keys)
        numbers = [n for n in tenant["phone_numbers"] if self.redis_get(f"agent:phone:{n}") is not None]
        if numbers:
            found["phone_keys"] = numbers
        if self.auth_users(tenant["admin_email"]):
            found["auth_user"] = tenant["admin_email"]
        if self.sql("SELECT 1 FROM platform.agent_configs WHERE tenant_id = %s", tenant_id):
            found["agent_config_row"] = True
        if self.sql("SELECT 1 FROM platform.users WHERE tenant_id = %s", tenant_id):
            found["user_row"] = True
        return found
