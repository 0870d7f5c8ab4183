"""`make dev` as a new user runs it: a separate process, driven only over HTTP and `.local/dev.env`."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local_stack.overrides import OVERRIDABLE
from support import Api, Pages, tenant_body

ROOT = Path(__file__).resolve().parents[2]
TEST_STACK_ENV = {
    *OVERRIDABLE,
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "MOTO_PORT",
    "API_URL",
    "SUPERADMIN_EMAIL",
    "SUPERADMIN_PASSWORD",
    "ENVIRONMENT",
}
pytestmark = pytest.mark.e2e


def free_base_port(span: int = 9) -> int:
    """A base port with `span` free ports after it (make dev puts its services at PORT+1…PORT+8), below
    Linux's ephemeral range (32768-60999): a port there may be given to another test worker's server
    bound to port 0, or to an outgoing connection, between this probe and make dev's own bind."""
    for _ in range(50):
        base = random.randrange(20_000, 32_768 - span)
        try:
            for port in range(base, base + span):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.fixture(scope="module")
def dev_terminal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the terminal of `make dev` shows (its stdout and stderr)."""
    return tmp_path_factory.mktemp("dev-terminal") / "terminal.txt"


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory, dev_terminal: Path) -> Iterator[dict[str, str]]:
    local_dir = tmp_path_factory.mktemp("dev")
    port = free_base_port()
    # A new user's shell: none of the URLs an in-process test stack may have put in os.environ.
    inherited = {k: v for k, v in os.environ.items() if k not in TEST_STACK_ENV}
    env = {**inherited, "PORT": str(port), "MLA_LOCAL_DIR": str(local_dir)}
    with dev_terminal.open("w") as terminal:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack"],
            cwd=ROOT,
            env=env,
            stdout=terminal,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"make dev exited early:\n{dev_terminal.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("make dev did not become healthy in 120 s")
        yield read_env(local_dir / "dev.env")
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl+C sends
        try:
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_dev_env_names_everything_a_client_needs(dev_stack: dict[str, str]) -> None:
    for key in (
        "API_URL",
        "DATABASE_URL",
        "UPSTASH_REDIS_REST_URL",
        "UPSTASH_REDIS_REST_TOKEN",
        "LIVEKIT_URL",
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
        "SUPERADMIN_EMAIL",
        "SUPERADMIN_PASSWORD",
    ):
        assert dev_stack.get(key), key


def test_health_reports_every_local_service_up(dev_stack: dict[str, str]) -> None:
    body = httpx.get(f"{dev_stack['API_URL']}/health").json()
    assert body["success"] is True
    assert set(body["data"]["services"]) == {"postgres", "redis", "livekit", "supabase_auth", "aws"}


def test_openapi_docs_are_served(dev_stack: dict[str, str]) -> None:
    assert httpx.get(dev_stack["API_URL"] + "/docs").status_code == 200
    with Api(dev_stack["API_URL"]) as api:  # the admin API's docs are for super admins
        admin = api.login(dev_stack["SUPERADMIN_EMAIL"], dev_stack["SUPERADMIN_PASSWORD"])["access_token"]
        assert api.request("GET", "/admin/docs", admin).status_code == 200
        spec = api.request("GET", "/admin/openapi.json", admin).json()
    assert "/admin/tenants" in spec["paths"]


def test_a_new_tenant_goes_live_and_its_admin_signs_in(dev_stack: dict[str, str]) -> None:
    with Api(dev_stack["API_URL"]) as api:
        admin = api.login(dev_stack["SUPERADMIN_EMAIL"], dev_stack["SUPERADMIN_PASSWORD"])["access_token"]
        body = tenant_body(languages=["hi", "en"], state="Bihar")
        created = api.request("POST", "/admin/tenants", admin, json=body)
        assert created.status_code == 202
        tenant = api.wait_for(admin, created.json()["data"]["tenant_id"], "active", "failed")
        assert tenant["status"] == "active", tenant

        token = api.invite_token_for(body["admin_email"])
        registered = api.http.post("/auth/register", json={"token": token, "password": "a strong passphrase"})
        assert registered.status_code == 201, registered.text

        session = api.login(body["admin_email"], "a strong passphrase")
        profile = api.request("GET", "/auth/profile", session["access_token"]).json()["data"]
        assert profile["role"] == "mla_admin"
        assert profile["tenant_id"] == tenant["tenant_id"]
        assert profile["tenant"]["status"] == "active"


def test_the_admin_panel_hears_a_new_tenant_go_live_over_the_live_updates_websocket(dev_stack: dict[str, str]) -> None:
    """What a super admin's page does in `make dev`: a ticket from the panel (cookie session, CSRF),
    the socket at `LIVE_UPDATES_URL`, the tenant's provisioning steps arriving as events."""
    from websockets.sync.client import connect

    assert dev_stack["LIVE_UPDATES_URL"].startswith("ws://127.0.0.1:")
    with Api(dev_stack["API_URL"]) as api:
        pages = Pages(api.http)
        pages.sign_in(dev_stack["SUPERADMIN_EMAIL"], dev_stack["SUPERADMIN_PASSWORD"], site="/admin/panel")
        csrf = pages.csrf("/admin/panel/tenants")  # the sign-out form in the header carries it
        granted = pages.send("POST", "/admin/panel/live/ticket", headers={"X-CSRF-Token": csrf})
        assert granted.status_code == 200, granted.text
        with connect(granted.json()["url"], open_timeout=10) as live:
            admin = api.login(dev_stack["SUPERADMIN_EMAIL"], dev_stack["SUPERADMIN_PASSWORD"])["access_token"]
            tenant_id = api.request("POST", "/admin/tenants", admin, json=tenant_body()).json()["data"]["tenant_id"]
            heard = [json.loads(live.recv(timeout=30)) for _ in range(3)]
    assert {event["type"] for event in heard} == {"tenant.changed"}
    assert {event["tenant_id"] for event in heard} == {tenant_id}


def test_a_call_becomes_a_complaint_the_office_assigns_and_resolves(dev_stack: dict[str, str], tmp_path: Path) -> None:
    """The whole loop as people live it: provision, a constituent calls, staff work the complaint."""
    with Api(dev_stack["API_URL"]) as api:
        admin = api.login(dev_stack["SUPERADMIN_EMAIL"], dev_stack["SUPERADMIN_PASSWORD"])["access_token"]
        body = tenant_body(languages=["ta", "en"])
        tenant = api.create_tenant(admin, body)
        assert tenant["status"] == "active", tenant
        office = api.http.post(
            "/auth/register", json={"token": api.invite_token_for(body["admin_email"]), "password": "office pass 1"}
        ).json()["data"]["access_token"]

        caller = "+919812345678"
        env_file = tmp_path / "dev.env"
        env_file.write_text("\n".join(f"{k}={v}" for k, v in dev_stack.items()) + "\n")
        script = "agent_pool/scripts/tamil_complaint.json"
        simulate = ["--to", tenant["phone_numbers"][0], "--from", caller, "--script", script, "--env", str(env_file)]
        call = subprocess.run(
            [sys.executable, "-m", "agent_pool.simulate", *simulate],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert call.returncode == 0, call.stdout + call.stderr

        [complaint] = api.request("GET", "/api/complaints", office).json()["data"]["items"]
        assert complaint["caller_number"] == caller and complaint["language"] == "ta"
        assert str(complaint["reference"]) in call.stdout

        staff_email = f"staff-{tenant['tenant_id']}@example.in"
        invited = api.request("POST", "/api/users/invite", office, json={"email": staff_email, "role": "staff"})
        assert invited.status_code == 201
        staff = api.http.post(
            "/auth/register", json={"token": api.invite_token_for(staff_email), "password": "staff pass 1"}
        ).json()["data"]

        path = f"/api/complaints/{complaint['reference']}"
        version = complaint["version"]
        for change in (
            {"status": "assigned", "assigned_to": staff["user"]["id"]},
            {"status": "in_progress"},
            {"status": "resolved", "note": "Valve repaired"},
        ):
            token = office if change["status"] == "assigned" else staff["access_token"]
            response = api.request("PATCH", path, token, json={"version": version, **change})
            assert response.status_code == 200, response.text
            version = response.json()["data"]["version"]

        sms = [m for m in api.outbox() if m["channel"] == "sms" and m["to"] == caller]
        assert len(sms) == 3  # registered, assigned, resolved: all in Tamil
        assert any("தீர்க்கப்பட்டது" in m["body"] for m in sms)


def test_the_banner_comes_last_with_the_sites_and_sign_in_and_the_logs_go_to_a_file(
    dev_stack: dict[str, str], dev_terminal: Path
) -> None:
    api_url = dev_stack["API_URL"]
    with Api(api_url) as api:  # a provisioning, whose JSON log lines must not reach the terminal
        admin = api.login(dev_stack["SUPERADMIN_EMAIL"], dev_stack["SUPERADMIN_PASSWORD"])["access_token"]
        body = tenant_body()
        api.create_tenant(admin, body)
    deadline = time.monotonic() + 10
    while "Press Ctrl+C to stop." not in (terminal := dev_terminal.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)

    banner = terminal[terminal.index("\nReady in ") :]
    for site in ("/admin/panel", "/app", "/docs", "/admin/docs", "/local/outbox"):
        assert f"{api_url}{site}" in banner
    assert f"Super admin    {dev_stack['SUPERADMIN_EMAIL']}" in banner
    assert f"password  {dev_stack['SUPERADMIN_PASSWORD']}" in banner
    assert terminal.rstrip().endswith("Press Ctrl+C to stop.")  # nothing printed after the banner
    logs = re.search(r"Logs +(\S+)", banner)
    assert logs and '"provisioning step succeeded"' in Path(logs.group(1)).read_text()

    # `make invitation EMAIL=…` from a new shell: the stack's address from its dev.env.
    config = re.search(r"Client config +(\S+)", banner)
    assert config
    shell = {k: v for k, v in os.environ.items() if k not in TEST_STACK_ENV}
    shell["MLA_LOCAL_DIR"] = str(Path(config.group(1)).parent)
    printed = subprocess.run(
        [sys.executable, "-m", "mla_core.cli", "invitation-link", body["admin_email"]],
        cwd=ROOT,
        env=shell,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert printed.returncode == 0, printed.stderr
    with Api(api_url) as api:
        assert printed.stdout.strip().endswith(f"/register?token={api.invite_token_for(body['admin_email'])}")
