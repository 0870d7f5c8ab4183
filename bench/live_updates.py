"""Live updates (issue 17): an event from the database commit to the updated fragment in the browser,
one event to 1,000 connections, and a call's turns with publishing on and off.

1. **Latency**: an office's complaints page open in Chromium (Playwright, signed in through the real
   invitation and sign-in pages); each round commits a change to a complaint's location, then publishes
   `complaint.updated` as the dashboard does; the page's MutationObserver notes when the list shows the new
   location (the page re-reads its rows: `GET /app/complaints` through the local gateway, the same Jinja).
   Baseline in the same run: a bare `post_to_connection` (boto3, the Management API) to a plain WebSocket
   client, until it has the message. Goal: p95 ≤ 300 ms.
2. **Fan-out**: 1,000 WebSocket connections of one office (each through `$connect` with its own ticket),
   one event published to them: the producer's time (`events.deliver`, 16 threads as deployed, and one
   thread as the baseline), per connection, and until the last client has it.
3. **A call with publishing on and off**: `bench.agent_audio`'s call (real Silero VAD, zero-latency
   doubles, `start_call`) with the worker's background publishing, the office's feed with 10 open
   connections (on) or no live-updates URL (off), alternating; the greeting's first frame and each turn,
   in audio time. Goal: no measurable change.
Run: `.venv/bin/python -m bench.live_updates [--events 200] [--connections 1000] [--turns 10]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.agent_stack import create_tenants, percentile

PASSWORD = "bench office password 1"
OBSERVE = """() => {
  window.seen = {};
  const table = document.querySelector("table.complaints");
  new MutationObserver(() => {
    for (const match of table.textContent.matchAll(/BENCH-(\\d+)/g)) {
      if (!(match[1] in window.seen)) window.seen[match[1]] = Date.now();
    }
  }).observe(table, { subtree: true, childList: true, characterData: true });
}"""


def stats(values: list[float]) -> str:
    return f"p50 {statistics.median(values):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms  (n={len(values)})"


def office_login(env: dict[str, str], tenant: dict[str, Any], stack: Any) -> tuple[str, str]:
    """The office admin's invitation accepted: (email, user id)."""
    email = str(tenant["admin_email"])
    mail = next(m for m in stack.outbox() if m["channel"] == "email" and m["to"] == email)
    match = re.search(r"token=([A-Za-z0-9_\-%.]+)", mail["body"])
    assert match is not None
    token = httpx.QueryParams(f"token={match.group(1)}")["token"]
    session = httpx.post(f"{env['API_URL']}/auth/register", json={"token": token, "password": PASSWORD}, timeout=30)
    return email, str(session.json()["data"]["user"]["id"])


def walk_in(env: dict[str, str], email: str) -> int:
    login = httpx.post(f"{env['API_URL']}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}", "Idempotency-Key": str(uuid.uuid4())}
    body = {"category": "water", "description": "No water", "location": "BENCH-start", "channel": "walk_in"}
    created = httpx.post(f"{env['API_URL']}/api/complaints", json=body, headers=headers, timeout=30)
    return int(created.json()["data"]["reference"])


# 1. Latency ---------------------------------------------------------------------------------------------


def latency(stack: Any, tenant_id: str, email: str, reference: int, events: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright
    from psycopg import sql

    from mla_core.adapters import get_services
    from mla_core.core.names import schema_name
    from mla_core.live import events as live

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
    from browser_support import CHROMIUM, FLAGS  # the browser tests' Chromium and flags

    services = get_services()
    update = sql.SQL("UPDATE {} SET location = %s WHERE reference = %s").format(
        sql.Identifier(schema_name(tenant_id), "complaints")
    )
    measured: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(base_url=stack.env["API_URL"]).new_page()
        page.goto("/app/login?next=/app/complaints")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector('[data-testid="live-status"][data-state="on"]')
        page.evaluate(OBSERVE)
        for index in range(events + 10):
            with services.db.transaction() as conn:
                conn.execute(update, (f"BENCH-{index}", reference))
            committed = time.time() * 1000
            live.office_changed(services, tenant_id, "complaint.updated", reference=reference)
            page.wait_for_function(f"() => '{index}' in window.seen", polling=5)
            if index >= 10:  # the first ten warm the page, the pool and the gateway
                measured.append(page.evaluate(f"window.seen['{index}']") - committed)
        browser.close()
    return measured, bare_round_trips(services, events)


def bare_round_trips(services: Any, count: int) -> list[float]:
    """A plain WebSocket client of the gateway; a boto3 post to it until it has the message."""
    from websockets.sync.client import connect

    from mla_core.core.principal import Principal
    from mla_core.live import tickets

    who = Principal(user_id=str(uuid.uuid4()), email="", role="staff", tenant_id="benchbare1")
    with connect(tickets.mint(services.settings, who).url) as socket:
        deadline = time.monotonic() + 10
        while not services.live.user_connections(who.user_id) and time.monotonic() < deadline:
            time.sleep(0.01)
        [connection_id] = services.live.user_connections(who.user_id)
        times = []
        for index in range(count + 10):
            started = time.perf_counter()
            services.connections.post(connection_id, json.dumps({"n": index}).encode())
            socket.recv(timeout=10)
            if index >= 10:
                times.append((time.perf_counter() - started) * 1000)
    return times


# 2. Fan-out ---------------------------------------------------------------------------------------------


def fan_out(connections: int) -> dict[str, float]:
    from websockets.asyncio.client import connect

    from mla_core.adapters import get_services
    from mla_core.core.principal import Principal
    from mla_core.live import events as live
    from mla_core.live import tickets

    services = get_services()
    feed = live.office_feed("benchfan01")
    received: dict[int, list[float]] = {}
    ready = threading.Event()
    done = threading.Event()
    expected: list[int] = [0]
    sockets: list[Any] = []

    async def clients() -> None:
        limit = asyncio.Semaphore(40)

        async def client() -> None:
            who = Principal(user_id=str(uuid.uuid4()), email="", role="staff", tenant_id="benchfan01")
            async with limit:
                socket = await connect(tickets.mint(services.settings, who).url, open_timeout=60)
            sockets.append(socket)
            async with socket:
                async for message in socket:
                    event = json.loads(message)
                    received.setdefault(event["id"], []).append(time.perf_counter())
                    if len(received[event["id"]]) == connections and event["id"] == expected[0]:
                        done.set()

        tasks = [asyncio.create_task(client()) for _ in range(connections)]
        while len(services.live.feed_connections(feed)) < connections:
            await asyncio.sleep(0.2)
        ready.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(clients(),), daemon=True)
    opened = time.perf_counter()
    thread.start()
    assert ready.wait(600), "the connections did not open"
    open_s = time.perf_counter() - opened
    figures = {"open_s": open_s}
    for threads, name in ((live.FAN_OUT_THREADS, "parallel"), (1, "sequential")):
        live.FAN_OUT_THREADS = threads
        done.clear()
        event = live.Event(type="complaint.updated", at=time.time(), reference=1)  # type: ignore[arg-type]
        event_id = services.live.append(feed, event.model_dump_json(exclude={"id"}), keep=1000, keep_s=600)
        expected[0] = event_id
        data = event.model_copy(update={"id": event_id}).model_dump_json().encode()
        started = time.perf_counter()
        sent, gone = live.deliver(services, feed, data)
        figures[f"{name}_s"] = time.perf_counter() - started
        assert done.wait(120), f"not every connection heard event {event_id}"
        figures[f"{name}_last_s"] = max(received[event_id]) - started
        figures["sent"], figures["gone"] = sent, gone
    live.FAN_OUT_THREADS = 16

    def drop_all() -> None:  # no closing handshakes: the stack stops next
        for socket in sockets:
            socket.transport.abort()

    loop.call_soon_threadsafe(drop_all)
    thread.join(30)
    return figures


# 3. A call with publishing on and off ---------------------------------------------------------------------


def call_figures(dialed: str, tenant_id: str, turns: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    from agent_pool.testing_audio import speech
    from bench.agent_audio import REPLY, our_call
    from mla_core.adapters import get_services
    from mla_core.adapters.aws import Connections
    from mla_core.core.principal import Principal
    from mla_core.live import events as live
    from mla_core.live import tickets

    services = get_services()
    services.publish_in_background = True  # as the worker's prewarm sets it
    configured = services.connections
    unconfigured = Connections("", services.settings.aws_region)
    pcm = speech(REPLY, "en", words_per_minute=200)
    from websockets.sync.client import connect

    from agent_pool import plugins

    vad_model = plugins.load_vad()
    listeners = [
        connect(tickets.mint(services.settings, Principal(str(uuid.uuid4()), "", "staff", tenant_id)).url)
        for _ in range(10)
    ]
    figures: dict[str, dict[str, list[float]]] = {
        "on": {"greeting": [], "turn": []},
        "off": {"greeting": [], "turn": []},
    }
    for round_ in range(rounds + 1):
        for side in ("on", "off") if round_ % 2 else ("off", "on"):
            services.__dict__["connections"] = configured if side == "on" else unconfigured
            line = asyncio.run(our_call(services, vad_model, pcm, dialed, f"live-{side}-{time.time_ns()}", turns))
            if round_ == 0:
                continue  # warm-up
            first = min(at for at, _ in line.ears.first_frame.values())
            figures[side]["greeting"].append(first * 1000)
            figures[side]["turn"].extend(t.audio_ms for t in line.turns if t.audio_ms is not None)
    live.drain(services)
    services.__dict__["connections"] = configured
    for socket in listeners:
        socket.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4, help="calls a side, alternating")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    from local_stack.stack import LocalStack

    stack = LocalStack(root=Path(tempfile.mkdtemp(prefix="bench-")), ephemeral_ports=True, schedules=False).start()
    try:
        [tenant] = create_tenants(stack.env, 1, ["en"])
        tenant_id = str(tenant["tenant_id"])
        email, _ = office_login(stack.env, tenant, stack)
        reference = walk_in(stack.env, email)

        page, bare = latency(stack, tenant_id, email, reference, args.events)
        print("1. an event from the database commit to the updated fragment in Chromium (goal p95 ≤ 300 ms)")
        print(f"   commit -> list re-read and shown   {stats(page)}")
        print(f"   bare post_to_connection round trip  {stats(bare)}")
        print(f"   ratio p50 {statistics.median(page) / statistics.median(bare):.1f}x")

        fan = fan_out(args.connections)
        n = args.connections
        print(f"2. one event to {n} connections of one office (opened in {fan['open_s']:.1f} s through $connect)")
        for name in ("parallel", "sequential"):
            label = f"{16 if name == 'parallel' else 1} thread{'s' if name == 'parallel' else ''}"
            print(
                f"   {label:<10} deliver {fan[f'{name}_s'] * 1000:7.0f} ms ({fan[f'{name}_s'] * 1e6 / n:6.0f} µs per"
                f" connection); the last client had it after {fan[f'{name}_last_s'] * 1000:7.0f} ms"
            )
        print(f"   sent {fan['sent']:.0f}, gone {fan['gone']:.0f}; API Gateway bills one message per connection")

        calls = call_figures(str(tenant["phone_numbers"][0]), tenant_id, args.turns, args.rounds)  # type: ignore[index]
        print(f"3. a call, publishing on vs off ({args.rounds} calls a side, {args.turns} turns each, audio time)")
        for what in ("greeting", "turn"):
            on, off = calls["on"][what], calls["off"][what]
            print(
                f"   {what:<9} on {stats(on)}   off {stats(off)}   on - off p50 "
                f"{statistics.median(on) - statistics.median(off):+.1f} ms, p95 {percentile(on, 0.95) - percentile(off, 0.95):+.1f} ms"
            )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
