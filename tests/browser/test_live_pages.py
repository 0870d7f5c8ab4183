"""Live updates in Chromium (issue 17): two signed-in tabs of one office and a tab of another office,
over the local WebSocket gateway; a complaint from a simulated call appears in both lists without a
reload, a status change in one tab shows in the other, the other office hears nothing, a reused ticket
is refused, a page whose connection the server closed reconnects and catches up, and signing out
closes the sockets; a call answered shows on "calls now" until it ends; a complaint past its due time
raises one banner."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_support import screenshot
from playwright.sync_api import expect
from psycopg import sql
from test_pages import office, simulated_call

from mla_core.adapters import get_services
from mla_core.complaints import sla
from mla_core.core.names import schema_name
from mla_core.live import connections
from support import Api, unique_number
from webhook_support import LiveKitSender, call_room, whole_call

COUNT_EVENTS = "window.liveEvents = 0; document.body.addEventListener('live:complaint', () => window.liveEvents++)"


def live(page: Any) -> None:
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "on")


def row(page: Any, reference: int) -> Any:
    return page.get_by_test_id("complaints").locator(
        "tr", has=page.get_by_role("link", name=f"#{reference}", exact=True)
    )


def walk_in(api: Api, token: str) -> dict[str, Any]:
    body = {"category": "water", "description": "No water", "location": "Ward 3", "channel": "walk_in",
            "caller_number": unique_number()}  # fmt: skip
    created = api.request("POST", "/api/complaints", token, headers={"Idempotency-Key": unique_number()}, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json()["data"])


def test_a_simulated_call_s_complaint_and_a_status_change_reach_every_open_tab_of_the_office_only(
    new_page: Any, api: Api, admin_token: str, stack: Any, tmp_path: Path
) -> None:
    tenant, first, token = office(api, admin_token, new_page)
    second = first.context.new_page()
    _, elsewhere, _ = office(api, admin_token, new_page)
    for page in (first, second, elsewhere):
        page.goto("/app/complaints")
        live(page)
    elsewhere.evaluate(COUNT_EVENTS)

    simulated_call(stack, tmp_path, tenant["phone_numbers"][0], unique_number())

    listed = api.request("GET", "/api/complaints", token).json()["data"]["items"]
    reference = listed[0]["reference"]
    for page in (first, second):
        expect(row(page, reference)).to_be_visible()  # no reload
        expect(row(page, reference)).to_contain_text("New")
    screenshot(second, "live-new-complaint")

    first.get_by_role("link", name=f"#{reference}", exact=True).click()
    first.select_option("#status", "acknowledged")
    first.get_by_role("button", name="Change status").click()
    expect(row(second, reference)).to_contain_text("Acknowledged")  # the other tab, in place

    assert elsewhere.evaluate("window.liveEvents") == 0
    expect(elsewhere.get_by_test_id("complaints")).not_to_contain_text(f"#{reference}")


def test_a_ticket_connects_once(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, _ = office(api, admin_token, new_page)
    page.goto("/app/complaints")
    live(page)

    outcome = page.evaluate(
        """async () => {
            const csrf = document.body.dataset.csrf;
            const granted = await (await fetch("/app/live/ticket", {method: "POST", headers: {"X-CSRF-Token": csrf}})).json();
            const attempt = () => new Promise((done) => {
                const socket = new WebSocket(granted.url);
                socket.onopen = () => done("open");
                socket.onclose = () => done("refused");
            });
            return [await attempt(), await attempt()];
        }"""
    )

    assert outcome == ["open", "refused"]


def test_a_page_whose_connection_the_server_closed_reconnects_and_catches_up(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page, token = office(api, admin_token, new_page)
    created = walk_in(api, token)
    page.goto("/app/complaints")
    live(page)
    [user_id] = {m["id"] for m in api.request("GET", "/api/users", token).json()["data"]}

    connections.close_user(get_services(), user_id)  # as API Gateway's 2 h limit would
    changed = api.request(
        "PATCH", f"/api/complaints/{created['reference']}", token,
        json={"status": "acknowledged", "version": created["version"]},
    )  # fmt: skip

    assert changed.status_code == 200, changed.text
    expect(row(page, created["reference"])).to_contain_text("Acknowledged")  # from the catch-up or the push
    live(page)


def test_signing_out_closes_the_page_s_socket(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    page.goto("/app/complaints")
    live(page)
    [user_id] = {m["id"] for m in api.request("GET", "/api/users", token).json()["data"]}
    services = get_services()
    assert services.live.user_connections(user_id)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/app/login"))
    for _ in range(100):
        if not services.live.user_connections(user_id):
            break
        page.wait_for_timeout(100)
    assert services.live.user_connections(user_id) == []


def test_a_call_answered_shows_on_calls_now_and_goes_when_it_ends(
    new_page: Any, api: Api, admin_token: str, stack: Any
) -> None:
    tenant, page, _ = office(api, admin_token, new_page)
    page.goto("/app/complaints")
    live(page)
    caller = unique_number()
    room = call_room(tenant, caller)
    started, joined, left, finished, _ = whole_call(
        room, caller, tenant["phone_numbers"][0], start=int(time.time()) - 5
    )
    livekit = LiveKitSender(api.http, stack.env)

    livekit.deliver([started, joined])
    expect(page.get_by_test_id("calls-now-count")).to_have_text("(1)")
    expect(page.get_by_test_id("call-now")).to_have_text(re.compile(r"^Language not yet known · [01] min$"))
    screenshot(page, "live-calls-now")
    livekit.deliver([left, finished])

    expect(page.get_by_test_id("calls-now-count")).to_have_text("(0)")
    assert caller not in page.get_by_test_id("calls-now").inner_text()


def test_a_complaint_past_its_due_time_raises_a_banner_once(new_page: Any, api: Api, admin_token: str) -> None:
    tenant, page, token = office(api, admin_token, new_page)
    created = walk_in(api, token)
    page.goto("/app/overview")
    live(page)
    table = sql.Identifier(schema_name(tenant["tenant_id"]), "complaints")
    with get_services().db.transaction() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET sla_due_at = now() - interval '1 minute' WHERE reference = %s").format(table),
            (created["reference"],),
        )

    assert sla.raise_breaches(get_services(), tenant["tenant_id"]) == 1
    assert sla.raise_breaches(get_services(), tenant["tenant_id"]) == 0

    alert = page.get_by_test_id("sla-alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(f"#{created['reference']} (Water supply) is past its due time.")


def test_the_overview_moves_when_a_complaint_is_logged(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    page.goto("/app/overview")
    live(page)
    expect(page.get_by_test_id("total")).to_have_text("0")

    walk_in(api, token)

    expect(page.get_by_test_id("total")).to_have_text("1")


def test_with_redis_down_the_page_says_it_is_not_live_and_keeps_working(
    new_page: Any, api: Api, admin_token: str, request: pytest.FixtureRequest
) -> None:
    _, page, _ = office(api, admin_token, new_page)
    request.getfixturevalue("redis_down")  # after the office is provisioned (its config goes to Redis)

    page.goto("/app/complaints")

    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "off")
    expect(page.get_by_test_id("live-status")).to_have_text("Not live: reload to see changes")
    expect(page.get_by_test_id("count")).to_have_text("0 complaints")
