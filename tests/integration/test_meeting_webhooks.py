"""LiveKit webhooks of a meeting's room (`mla-<tenant>-meet-<id>`) over the local gateway, signed as LiveKit
signs them: folded into the meeting (its participants, its recording, its end), once, in any order, and
never into a call row; another office's room name reaches nothing; call rooms go on as before."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from livekit import api as lk
from psycopg import sql

from mla_core.adapters import get_services
from mla_core.live import events
from support import Api, Inspector, tenant_body, unique_number
from webhook_support import LiveKitSender, call_room, egress, event_id, joined, left, room_finished, whole_call

SOON = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
NOW = int(time.time())  # the meeting starts now: the events come just after


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))


@pytest.fixture(scope="module")
def other_office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body())


@pytest.fixture(scope="module")
def inspect(stack: Any) -> Inspector:
    return Inspector(stack.env)


@pytest.fixture(scope="module")
def livekit(api: Api, stack: Any) -> LiveKitSender:
    return LiveKitSender(api.http, stack.env)


# Factories ---------------------------------------------------------------------------------------


def live_meeting(api: Api, office: dict[str, Any], **body: Any) -> dict[str, Any]:
    """A meeting scheduled and started through the API: live, its room open, its recording running."""
    body = {"kind": "janata_darbar", "title": "Janata darbar, Ward 12", "scheduled_at": SOON, **body}
    created = api.request("POST", "/api/meetings", office["token"], json=body)
    assert created.status_code == 201, created.text
    started = api.request("POST", f"/api/meetings/{created.json()['data']['id']}/start", office["token"])
    assert started.status_code == 200, started.text
    return dict(started.json()["data"])


def meeting_now(api: Api, office: dict[str, Any], meeting: dict[str, Any]) -> dict[str, Any]:
    response = api.request("GET", f"/api/meetings/{meeting['id']}", office["token"])
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def people(api: Api, office: dict[str, Any], meeting: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["identity"]: p for p in meeting_now(api, office, meeting)["participants"]}


def call_rows(inspect: Inspector, tenant_id: str, room: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {} WHERE room_name = %s").format(
        sql.Identifier(f"tenant_{tenant_id}", "calls")
    )
    return int(inspect.sql(query, room)[0][0])


def recorded_ids(inspect: Inspector, ids: list[str]) -> set[str]:
    return {row[0] for row in inspect.sql("SELECT id FROM platform.webhook_events WHERE id = ANY(%s)", ids)}


def meeting_events(tenant_id: str, meeting_id: str, after: int) -> list[events.Event]:
    """The `meeting.updated` events of `meeting_id` published to the office's feed after `after`."""
    caught = events.catch_up(get_services(), events.office_feed(tenant_id), after=after)
    return [e for e in caught.events if e.type == "meeting.updated" and e.meeting_id == meeting_id]


def newest_event(tenant_id: str) -> int:
    return events.catch_up(get_services(), events.office_feed(tenant_id), after=0).newest


def same_time(value: str | None, seconds: int) -> bool:
    return value is not None and datetime.fromisoformat(value) == datetime.fromtimestamp(seconds, UTC)


# The recording -----------------------------------------------------------------------------------


def test_egress_ended_for_a_meeting_room_stores_its_recording_and_makes_no_call_row(
    api: Api, office: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    meeting = live_meeting(api, office)
    room, tenant_id = meeting["room_name"], office["tenant_id"]
    location = f"s3://mla-meeting-recordings/recordings/{tenant_id}/{meeting['id']}/{room}-1.ogg"
    before = newest_event(tenant_id)
    ended = egress("egress_ended", room, NOW + 60, location=location)

    assert livekit.deliver([ended, ended]) == ["applied", "duplicate"]

    now = meeting_now(api, office, meeting)
    assert (now["recording"], now["recording_url"]) == ("stored", location)
    assert now["status"] == "live"  # the recording ended, not the meeting
    assert call_rows(inspect, tenant_id, room) == 0
    assert recorded_ids(inspect, [ended.id]) == {ended.id}
    assert len(meeting_events(tenant_id, meeting["id"], before)) == 1  # told once: the retry changed nothing


def test_recording_events_in_any_order_and_retried_end_the_same(
    api: Api, office: dict[str, Any], livekit: LiveKitSender
) -> None:
    location = "s3://mla-meeting-recordings/recordings/x/{}.ogg"
    finals = []
    for order in ([0, 1], [1, 0], [1, 0, 1, 0]):
        meeting = live_meeting(api, office)
        room = meeting["room_name"]
        pair = [egress("egress_started", room, NOW + 1), egress("egress_ended", room, NOW + 90, location=location)]
        outcomes = livekit.deliver([pair[i] for i in order])
        assert outcomes[:2] == ["applied", "applied"] and set(outcomes[2:]) <= {"duplicate"}
        now = meeting_now(api, office, meeting)
        finals.append((now["recording"], now["recording_url"]))
    assert finals == [("stored", location)] * 3  # a late egress_started does not take a stored one back


def test_a_failed_egress_marks_the_recording_failed_but_never_over_a_stored_one(
    api: Api, office: dict[str, Any], livekit: LiveKitSender
) -> None:
    meeting = live_meeting(api, office)
    room = meeting["room_name"]
    failed = egress("egress_ended", room, NOW + 30, status=lk.EgressStatus.EGRESS_FAILED, error="s3 upload: denied")

    assert livekit.deliver([failed]) == ["applied"]
    assert meeting_now(api, office, meeting)["recording"] == "failed"

    second = live_meeting(api, office)
    stored = egress("egress_ended", second["room_name"], NOW + 40, location="s3://b/second.ogg")
    late_failure = egress(
        "egress_ended", second["room_name"], NOW + 45, status=lk.EgressStatus.EGRESS_FAILED, error="x"
    )
    assert livekit.deliver([stored, late_failure]) == ["applied", "applied"]
    now = meeting_now(api, office, second)
    assert (now["recording"], now["recording_url"]) == ("stored", "s3://b/second.ogg")


def test_a_recording_the_host_stopped_stays_stopped_until_its_file_is_stored(
    api: Api, office: dict[str, Any], livekit: LiveKitSender
) -> None:
    meeting = live_meeting(api, office)
    room, path = meeting["room_name"], f"/api/meetings/{meeting['id']}"
    assert api.request("POST", f"{path}/recording/stop", office["token"]).json()["data"]["recording"] == "stopped"

    assert livekit.deliver([egress("egress_started", room, NOW + 1)]) == ["applied"]
    assert meeting_now(api, office, meeting)["recording"] == "stopped"

    assert livekit.deliver([egress("egress_ended", room, NOW + 20, location="s3://b/part.ogg")]) == ["applied"]
    now = meeting_now(api, office, meeting)
    assert (now["recording"], now["recording_url"]) == ("stored", "s3://b/part.ogg")


# Participants ------------------------------------------------------------------------------------


def test_participants_join_and_leave_in_any_order_and_a_retry_applies_once(
    api: Api, office: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    meeting = live_meeting(api, office)
    room, path = meeting["room_name"], f"/api/meetings/{meeting['id']}"
    citizen = api.request("POST", f"{path}/token", office["token"], json={"role": "citizen", "name": "Lakshmi"})
    known = citizen.json()["data"]["identity"]  # the office named her: the events' name does not replace it
    sent = [
        joined(room, known, NOW + 10, name="lakshmi's phone", role="citizen"),
        left(room, known, NOW + 50),
        joined(room, known, NOW + 60, name="lakshmi's phone", role="citizen"),  # came back
        left(room, known, NOW + 120),
        joined(room, "agent-AJ_notes", NOW + 2, name="AI note-taker", agent=True),
        joined(room, "user:walk-in", NOW + 15, name="Selvi", role="staff"),
        joined(room, "guest-7", NOW + 20),  # no name, no role: a citizen under their identity
        left(room, "guest-7", NOW + 70),
    ]
    before = newest_event(office["tenant_id"])

    assert livekit.deliver(sent[::-1]) == ["applied"] * len(sent)
    assert livekit.deliver(sent) == ["duplicate"] * len(sent)

    seen = people(api, office, meeting)
    lakshmi = seen[known]
    assert (lakshmi["name"], lakshmi["role"]) == ("Lakshmi", "citizen")
    assert same_time(lakshmi["joined_at"], NOW + 10) and same_time(lakshmi["left_at"], NOW + 120)
    assert (seen["agent-AJ_notes"]["role"], seen["agent-AJ_notes"]["name"]) == ("notetaker", "AI note-taker")
    assert seen["agent-AJ_notes"]["left_at"] is None
    assert (seen["user:walk-in"]["role"], seen["user:walk-in"]["name"]) == ("staff", "Selvi")
    assert (seen["guest-7"]["role"], seen["guest-7"]["name"]) == ("citizen", "guest-7")
    assert same_time(seen["guest-7"]["joined_at"], NOW + 20) and same_time(seen["guest-7"]["left_at"], NOW + 70)
    assert recorded_ids(inspect, [e.id for e in sent]) == {e.id for e in sent}
    # In reverse, Lakshmi's first leave came after her last and changed nothing: seven of the eight told.
    assert len(meeting_events(office["tenant_id"], meeting["id"], before)) == 7
    assert call_rows(inspect, office["tenant_id"], room) == 0


# The room closing --------------------------------------------------------------------------------


def test_room_finished_ends_a_live_meeting_at_the_events_time(
    api: Api, office: dict[str, Any], livekit: LiveKitSender
) -> None:
    meeting = live_meeting(api, office)
    closed_at = int(time.time()) + 300  # the empty timeout, after everyone left
    finished = room_finished(meeting["room_name"], closed_at)

    assert livekit.deliver([finished, finished]) == ["applied", "duplicate"]

    now = meeting_now(api, office, meeting)
    assert now["status"] == "ended" and same_time(now["ended_at"], closed_at)
    # A second room_finished (the host restarted the room, or LiveKit's own retry under a new id) changes nothing.
    assert livekit.deliver([room_finished(meeting["room_name"], closed_at + 600)]) == ["applied"]
    assert same_time(meeting_now(api, office, meeting)["ended_at"], closed_at)
    assert api.request("POST", f"/api/meetings/{meeting['id']}/token", office["token"]).status_code == 409


def test_room_finished_leaves_a_meeting_the_host_ended_as_it_was(
    api: Api, office: dict[str, Any], livekit: LiveKitSender
) -> None:
    meeting = live_meeting(api, office)
    ended = api.request("POST", f"/api/meetings/{meeting['id']}/end", office["token"]).json()["data"]

    assert livekit.deliver([room_finished(meeting["room_name"], int(time.time()) + 30)]) == ["applied"]

    now = meeting_now(api, office, meeting)
    assert (now["status"], now["ended_at"], now["version"]) == ("ended", ended["ended_at"], ended["version"])


# Whose room --------------------------------------------------------------------------------------


def test_another_offices_room_name_cannot_touch_this_offices_meeting(
    api: Api, office: dict[str, Any], other_office: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    meeting = live_meeting(api, office)
    mine, theirs = office["tenant_id"], other_office["tenant_id"]
    forged = f"mla-{theirs}-meet-{meeting['id']}"  # their prefix, our meeting's id
    cases = [
        (room_finished(forged, NOW + 5), "unknown_meeting"),
        (egress("egress_ended", forged, NOW + 5, location="s3://theirs/x.ogg"), "unknown_meeting"),
        (joined(forged, "intruder", NOW + 5, role="host"), "unknown_meeting"),
        (room_finished(f"mla-{mine}-meet-{uuid.uuid4()}", NOW + 5), "unknown_meeting"),
        (room_finished(f"mla-{mine}-meet-not-a-meeting", NOW + 5), "unknown_meeting"),
        (room_finished(f"mla-unknown123-meet-{meeting['id']}", NOW + 5), "unknown_tenant"),
        (lk.WebhookEvent(event="track_published", id=event_id(), room=lk.Room(name=meeting["room_name"])),
         "no_meeting_change"),
    ]  # fmt: skip
    for event, reason in cases:
        response = livekit.send(event)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["outcome"], data["reason"]) == ("ignored", reason), (event.room.name, event.egress_info.room_name)

    now = meeting_now(api, office, meeting)
    assert (now["status"], now["recording"], now["recording_url"], now["participants"]) == (
        "live",
        "recording",
        None,
        [],
    )
    assert recorded_ids(inspect, [e.id for e, _ in cases]) == set()
    assert call_rows(inspect, mine, f"mla-{mine}-meet-not-a-meeting") == 0
    assert call_rows(inspect, theirs, forged) == 0


# Calls as before ---------------------------------------------------------------------------------


def test_a_call_rooms_events_still_fill_its_call_row(
    office: dict[str, Any], livekit: LiveKitSender, inspect: Inspector
) -> None:
    caller = unique_number()
    room = call_room(office, caller)

    assert livekit.deliver(whole_call(room, caller, office["phone_numbers"][0])) == ["applied"] * 5

    query = sql.SQL("SELECT status, recording_url FROM {} WHERE caller_number = %s").format(
        sql.Identifier(f"tenant_{office['tenant_id']}", "calls")
    )
    [(status, recording)] = inspect.sql(query, caller)
    assert status == "completed" and recording is not None and recording.endswith(".ogg")
