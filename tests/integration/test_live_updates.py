"""Live updates through the local WebSocket gateway: real WebSocket connections, the template's
RealtimeFunction invoked as API Gateway invokes it, boto3's Management API client, Redis."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mla_core.adapters import Services, get_services
from mla_core.complaints import sla
from mla_core.core.names import schema_name, stored_room_name
from mla_core.core.principal import Principal
from mla_core.live import connections, events, tickets
from support import Api, unique_number
from webhook_support import LiveKitSender, call_room, whole_call

WATER = {"category": "water", "description": "No drinking water for three days", "location": "Ward 12"}


@pytest.fixture
def services(stack: Any) -> Services:
    return get_services()


def office_user(tenant_id: str) -> Principal:
    return Principal(user_id=str(uuid.uuid4()), email="", role="staff", tenant_id=tenant_id)


def tenant() -> str:
    return f"live{uuid.uuid4().hex[:8]}"


@pytest.fixture
def opened() -> Iterator[list[ClientConnection]]:
    sockets: list[ClientConnection] = []
    yield sockets
    for socket in sockets:
        socket.close()


def open_socket(services: Services, who: Principal, opened: list[ClientConnection]) -> ClientConnection:
    socket = connect(tickets.mint(services.settings, who).url, open_timeout=10)
    opened.append(socket)
    return socket


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.02)


def received(socket: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    return dict(json.loads(socket.recv(timeout=timeout)))


def test_an_event_reaches_its_office_s_connections_and_no_other_office_s(
    services: Services, opened: list[ClientConnection]
) -> None:
    office, other = tenant(), tenant()
    mine = [open_socket(services, office_user(office), opened) for _ in range(2)]
    theirs = open_socket(services, office_user(other), opened)
    wait_for(lambda: len(services.live.feed_connections(events.office_feed(office))) == 2)

    published = events.publish(services, events.office_feed(office), "complaint.created", reference=1001)

    assert published is not None and published.id >= 1
    for socket in mine:
        event = received(socket)
        assert event["type"] == "complaint.created" and event["reference"] == 1001
        assert event["id"] == published.id and set(event) == {
            "v",
            "id",
            "type",
            "at",
            "reference",
            "call_id",
            "tenant_id",
            "meeting_id",
            "segment_id",
        }
    with pytest.raises(TimeoutError):
        theirs.recv(timeout=0.5)


def test_event_ids_only_grow_and_a_reconnecting_page_catches_up(services: Services) -> None:
    feed = events.office_feed(tenant())
    ids = [events.publish(services, feed, "complaint.updated", reference=1000 + n).id for n in range(3)]  # type: ignore[union-attr]

    assert ids == sorted(ids) and len(set(ids)) == 3
    missed = events.catch_up(services, feed, after=ids[0])
    assert missed.complete and [e.id for e in missed.events] == ids[1:] and missed.newest == ids[2]
    assert [e.reference for e in missed.events] == [1001, 1002]
    assert events.catch_up(services, feed, after=ids[2]) == events.CatchUp(events=[], complete=True, newest=ids[2])


def test_a_page_that_missed_more_than_is_kept_is_told_to_reload(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = events.office_feed(tenant())
    monkeypatch.setattr(services.settings, "live_events_kept", 3)
    ids = [events.publish(services, feed, "complaint.updated", reference=1000 + n).id for n in range(6)]  # type: ignore[union-attr]

    assert not events.catch_up(services, feed, after=ids[0]).complete  # ids[1] and ids[2] are gone
    assert events.catch_up(services, feed, after=ids[2]).complete
    assert not events.catch_up(services, feed, after=ids[5] + 10).complete  # ahead of the feed: Redis was emptied


@pytest.mark.parametrize("tamper", ["forged", "expired", "reused", "missing"])
def test_a_forged_expired_reused_or_missing_ticket_is_refused_at_the_upgrade(
    services: Services, opened: list[ClientConnection], tamper: str
) -> None:
    who = office_user(tenant())
    ticket = tickets.mint(services.settings, who, now=time.time() - 120 if tamper == "expired" else None)
    url = ticket.url
    if tamper == "forged":
        _, _, signature = url.partition("ticket=")[2].partition(".")
        url = url.replace(signature, signature[::-1])
    elif tamper == "reused":
        opened.append(connect(url, open_timeout=10))
    elif tamper == "missing":
        url = url.partition("?")[0]

    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)

    assert refused.value.response.status_code == 401
    registered = services.live.feed_connections(events.office_feed(who.tenant_id or ""))
    assert len(registered) == (1 if tamper == "reused" else 0)  # only the ticket's first connection


def test_a_ping_gets_a_pong(services: Services, opened: list[ClientConnection]) -> None:
    socket = open_socket(services, office_user(tenant()), opened)

    socket.send(json.dumps({"action": "ping"}))

    assert received(socket) == {"type": "pong"}


def test_a_connection_api_gateway_calls_gone_is_dropped_from_the_feed(services: Services) -> None:
    from mla_core.adapters.live import Connection

    feed = events.office_feed(tenant())
    services.live.add_connection(Connection("never-connected=", feed, "u-1", opened_at=time.time() - 60))

    sent, gone = events.deliver(services, feed, b'{"type":"complaint.created"}')

    assert (sent, gone) == (0, 1)
    assert services.live.feed_connections(feed) == [] and services.live.user_connections("u-1") == []


def test_a_connection_still_connecting_is_kept_though_api_gateway_calls_it_gone(services: Services) -> None:
    """API Gateway answers 410 to posts for a connection until its `$connect` has returned: an event
    published meanwhile (a tenant's next provisioning step) must not drop the page that is opening."""
    from mla_core.adapters.live import Connection

    feed = events.office_feed(tenant())
    services.live.add_connection(Connection("still-connecting=", feed, "u-2"))  # registered, not yet open

    sent, gone = events.deliver(services, feed, b'{"type":"complaint.created"}')

    assert (sent, gone) == (0, 1)
    assert services.live.feed_connections(feed) == ["still-connecting="]


def test_signing_out_closes_the_user_s_connections_and_their_disconnect_clears_the_registry(
    services: Services, opened: list[ClientConnection]
) -> None:
    who = office_user(tenant())
    socket = open_socket(services, who, opened)
    feed = events.office_feed(who.tenant_id or "")
    wait_for(lambda: services.live.feed_connections(feed))

    assert connections.close_user(services, who.user_id) == 1

    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    wait_for(lambda: not services.live.feed_connections(feed) and not services.live.user_connections(who.user_id))


def test_the_management_api_describes_a_connection_as_api_gateway_does(
    services: Services, opened: list[ClientConnection], stack: Any
) -> None:
    from mla_core.adapters.aws import _management_client

    who = office_user(tenant())
    open_socket(services, who, opened)
    wait_for(lambda: services.live.user_connections(who.user_id))
    [connection_id] = services.live.user_connections(who.user_id)
    client = _management_client(
        services.settings.live_updates_management_url, services.settings.aws_region, services._aws_timeouts
    )

    described = client.get_connection(ConnectionId=connection_id)

    assert described["Identity"]["SourceIp"] == "127.0.0.1" and "ConnectedAt" in described
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="no-such-connection=", Data=b"{}")


# What publishes: the dashboard API, the webhooks, the SLA watcher --------------------------------


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token)


def member(office: dict[str, Any]) -> Principal:
    return Principal(user_id=office["user_id"], email="", role="mla_admin", tenant_id=office["tenant_id"])


def walk_in(api: Api, office: dict[str, Any]) -> dict[str, Any]:
    body = {**WATER, "caller_number": unique_number(), "channel": "walk_in"}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    created = api.request("POST", "/api/complaints", office["token"], json=body, headers=headers)
    assert created.status_code == 201, created.text
    return dict(created.json()["data"])


def test_a_complaint_logged_and_changed_through_the_api_reaches_the_office_s_open_pages(
    api: Api, office: dict[str, Any], services: Services, opened: list[ClientConnection]
) -> None:
    socket = open_socket(services, member(office), opened)
    wait_for(lambda: services.live.user_connections(office["user_id"]))

    complaint = walk_in(api, office)
    created = received(socket)
    changed = api.request(
        "PATCH",
        f"/api/complaints/{complaint['reference']}",
        office["token"],
        json={"status": "acknowledged", "version": complaint["version"]},
    )
    assert changed.status_code == 200, changed.text
    updated = received(socket)

    assert (created["type"], created["reference"]) == ("complaint.created", complaint["reference"])
    assert (updated["type"], updated["reference"]) == ("complaint.updated", complaint["reference"])
    assert updated["id"] > created["id"]
    assert "caller_number" not in created and "description" not in updated  # ids, never what it says
    missed = api.request("GET", f"/api/events?after={created['id'] - 1}", office["token"]).json()["data"]
    assert missed["complete"] and [e["id"] for e in missed["events"]] == [created["id"], updated["id"]]


def test_another_office_cannot_read_an_office_s_events(api: Api, admin_token: str, office: dict[str, Any]) -> None:
    walk_in(api, office)
    other = api.office_admin(admin_token)

    theirs = api.request("GET", "/api/events?after=0", other["token"]).json()["data"]

    assert theirs["events"] == [] and theirs["newest"] == 0


def test_a_call_answered_and_ended_reaches_the_calls_now_panel_s_pages(
    api: Api, stack: Any, office: dict[str, Any], services: Services, opened: list[ClientConnection]
) -> None:
    socket = open_socket(services, member(office), opened)
    wait_for(lambda: services.live.user_connections(office["user_id"]))
    caller = unique_number()
    room = call_room(office, caller)

    LiveKitSender(api.http, stack.env).deliver(whole_call(room, caller, office["phone_numbers"][0]))

    kinds = [received(socket) for _ in range(3)]  # answered; the caller left; the room finished
    assert [e["type"] for e in kinds] == ["call.started", "call.ended", "call.ended"]
    assert {e["call_id"] for e in kinds} == {stored_room_name(room)} and caller not in json.dumps(kinds)


def test_the_sla_watcher_raises_each_breach_once(
    api: Api, office: dict[str, Any], services: Services, opened: list[ClientConnection]
) -> None:
    complaint = walk_in(api, office)
    socket = open_socket(services, member(office), opened)
    wait_for(lambda: services.live.user_connections(office["user_id"]))
    table = sql.Identifier(schema_name(office["tenant_id"]), "complaints")
    with services.db.transaction() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET sla_due_at = now() - interval '1 minute' WHERE reference = %s").format(table),
            (complaint["reference"],),
        )

    first, second = sla.raise_breaches(services, office["tenant_id"]), sla.raise_breaches(services, office["tenant_id"])

    assert (first, second) == (1, 0)
    breach = received(socket)
    assert (breach["type"], breach["reference"]) == ("sla.breached", complaint["reference"])
    with pytest.raises(TimeoutError):
        socket.recv(timeout=0.5)


def test_a_member_disabled_and_an_office_deprovisioned_have_their_connections_closed(
    api: Api, admin_token: str, services: Services, opened: list[ClientConnection]
) -> None:
    first, second = api.office_admin(admin_token), api.office_admin(admin_token)
    invited = api.request(
        "POST", "/api/users/invite", second["token"], json={"email": f"staff-{uuid.uuid4().hex[:8]}@example.in"}
    ).json()["data"]
    staff = Principal(user_id=invited["id"], email="", role="staff", tenant_id=second["tenant_id"])
    disabled_socket, office_socket = open_socket(services, staff, opened), open_socket(services, member(first), opened)
    wait_for(lambda: services.live.user_connections(staff.user_id) and services.live.user_connections(first["user_id"]))

    disabled = api.request("PATCH", f"/api/users/{invited['id']}", second["token"], json={"disabled": True})
    deleted = api.request("DELETE", f"/admin/tenants/{first['tenant_id']}", admin_token)

    assert disabled.status_code == 200, disabled.text
    assert deleted.status_code == 202, deleted.text
    for socket in (disabled_socket, office_socket):
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=30)
    wait_for(lambda: services.live.feed_connections(events.office_feed(first["tenant_id"])) == [])  # $disconnect


def test_the_worker_publishes_in_the_background_and_drains_before_its_process_goes(
    services: Services, opened: list[ClientConnection], monkeypatch: pytest.MonkeyPatch
) -> None:
    who = office_user(tenant())
    socket = open_socket(services, who, opened)
    wait_for(lambda: services.live.user_connections(who.user_id))
    monkeypatch.setattr(services, "publish_in_background", True)  # as the worker's prewarm sets it

    queued = events.office_changed(services, who.tenant_id or "", "call.started", call_id="mla-x-call_1")
    drained = events.drain(services)

    assert queued is None and drained  # the caller did not wait for it
    assert received(socket)["call_id"] == "mla-x-call_1"
