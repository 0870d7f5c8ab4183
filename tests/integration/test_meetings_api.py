"""Meetings through the dashboard API (`/api/meetings`), as an office's admin and staff hold a janata
darbar: schedule, edit, start (the room created server-side with the note-taker and an audio recording,
checked at the LiveKit stand-in), join tokens by role (decoded and checked), the host's controls, the
transcript and its files, end; every route's validation and another office's reach."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from livekit import api as lk

from mla_core.adapters import get_services
from mla_core.meetings import meetings
from mla_core.meetings.models import NewSegment
from support import Api, tenant_body

SOON = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    office = api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))
    return {**office, "staff_token": api.staff_of(office)}


@pytest.fixture(scope="module")
def other_office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body())


def scheduled(api: Api, token: str, **body: Any) -> dict[str, Any]:
    body = {"kind": "janata_darbar", "title": "Janata darbar, Ward 12", "scheduled_at": SOON, **body}
    response = api.request("POST", "/api/meetings", token, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def post(api: Api, token: str, path: str, **body: Any) -> httpx.Response:
    return api.request("POST", path, token, json=body or None)


def standin_room(stack: Any, name: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.env['LIVEKIT_URL']}/local/rooms/{name}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def claims_of(stack: Any, token: str) -> Any:
    return lk.TokenVerifier(stack.env["LIVEKIT_API_KEY"], stack.env["LIVEKIT_API_SECRET"]).verify(token)


def test_a_scheduled_meeting_takes_the_offices_languages_and_lists(api: Api, office: dict[str, Any]) -> None:
    meeting = scheduled(api, office["token"], agenda="Water supply; roads", location="Community hall")
    assert meeting["status"] == "scheduled" and meeting["languages"] == ["ta", "en"]
    assert meeting["room_name"] == f"mla-{office['tenant_id']}-meet-{meeting['id']}"
    assert meeting["recording"] == "off" and meeting["recording_wanted"] is True
    listed = api.request("GET", "/api/meetings", office["staff_token"]).json()["data"]["items"]
    assert meeting["id"] in [m["id"] for m in listed]
    detail = api.request("GET", f"/api/meetings/{meeting['id']}", office["staff_token"])
    assert detail.json()["data"]["participants"] == [] and detail.headers["ETag"] == '"1"'


def test_the_calendar_reads_a_window_soonest_first_in_pages(api: Api, admin_token: str) -> None:
    office = api.office_admin(admin_token, tenant_body())
    base = datetime(2027, 1, 4, 10, tzinfo=UTC)
    ids = [scheduled(api, office["token"], scheduled_at=(base + timedelta(days=d)).isoformat())["id"] for d in range(5)]
    window = {"from": base.isoformat(), "to": (base + timedelta(days=4)).isoformat(), "order": "asc", "limit": 2}
    first = api.request("GET", "/api/meetings", office["token"], params=window).json()["data"]
    second = api.request(
        "GET", "/api/meetings", office["token"], params={**window, "cursor": first["next_cursor"]}
    ).json()["data"]
    assert [m["id"] for m in first["items"] + second["items"]] == ids[:4]


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(api: Api, office: dict[str, Any]) -> None:
    before = len(api.request("GET", "/api/meetings", office["token"], params={"limit": 100}).json()["data"]["items"])
    for body, field in [
        ({"kind": "wedding", "title": "x", "scheduled_at": SOON}, "kind"),
        ({"kind": "staff", "title": "", "scheduled_at": SOON}, "title"),
        ({"kind": "staff", "title": "x", "scheduled_at": "2026-12-05T10:00:00"}, "scheduled_at"),
        ({"kind": "staff", "title": "x", "scheduled_at": SOON, "languages": ["ta", "ta"]}, "languages"),
        ({"kind": "staff", "title": "x", "scheduled_at": SOON, "languages": ["fr"]}, "languages"),
        ({"kind": "staff", "title": "x", "scheduled_at": SOON, "duration_minutes": 2}, "duration_minutes"),
    ]:
        response = api.request("POST", "/api/meetings", office["token"], json=body)
        assert response.status_code == 422, (body, response.text)
        assert any(field in d["field"] for d in response.json()["error"]["details"]), response.text
    after = len(api.request("GET", "/api/meetings", office["token"], params={"limit": 100}).json()["data"]["items"])
    assert after == before
    assert api.request("GET", "/api/meetings/not-a-uuid", office["token"]).status_code == 422
    assert api.request("GET", f"/api/meetings/{uuid.uuid4()}", office["token"]).status_code == 404


def test_edits_follow_the_status_and_the_version(api: Api, office: dict[str, Any]) -> None:
    meeting = scheduled(api, office["staff_token"])
    path = f"/api/meetings/{meeting['id']}"
    changed = api.request("PUT", path, office["staff_token"], json={"title": "Darbar, Ward 12 and 13"})
    assert changed.status_code == 200 and changed.json()["data"]["version"] == 2
    stale = api.request("PUT", path, office["staff_token"], json={"title": "x"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["error"]["details"][0]["reason"] == "stale"
    assert post(api, office["staff_token"], f"{path}/cancel").json()["data"]["status"] == "cancelled"
    assert api.request("PUT", path, office["staff_token"], json={"title": "again"}).status_code == 409
    assert post(api, office["staff_token"], f"{path}/start").status_code == 409
    assert api.request("DELETE", path, office["staff_token"]).status_code == 200
    assert api.request("GET", path, office["staff_token"]).status_code == 404


def test_a_started_meeting_has_its_room_with_the_notetaker_and_an_audio_recording(
    api: Api, office: dict[str, Any], stack: Any
) -> None:
    meeting = scheduled(api, office["token"])
    started = post(api, office["token"], f"/api/meetings/{meeting['id']}/start")
    assert started.status_code == 200, started.text
    assert started.json()["data"]["status"] == "live" and started.json()["data"]["recording"] == "recording"
    room = standin_room(stack, meeting["room_name"])
    [agent] = room["request"]["agents"]
    assert agent["agentName"] == "mla-notetaker"
    assert '"meeting_id": "' + meeting["id"] in agent["metadata"] and '"languages": ["ta", "en"]' in agent["metadata"]
    composite = room["request"]["egress"]["room"]
    assert composite["audioOnly"] is True
    [output] = composite["fileOutputs"]
    assert output["fileType"] == "OGG" and output["s3"]["region"] == "ap-south-1"
    assert output["filepath"].startswith(f"recordings/{office['tenant_id']}/{meeting['id']}/")
    [egress] = room["egresses"]
    assert egress["status"] == "EGRESS_ACTIVE"
    again = post(api, office["token"], f"/api/meetings/{meeting['id']}/start")  # idempotent
    assert again.status_code == 200 and again.json()["data"]["version"] == started.json()["data"]["version"]
    live_edit = api.request("PUT", f"/api/meetings/{meeting['id']}", office["token"], json={"scheduled_at": SOON})
    assert live_edit.status_code == 409


def test_tokens_carry_the_grants_of_each_role_and_expire(api: Api, office: dict[str, Any], stack: Any) -> None:
    meeting = scheduled(api, office["staff_token"], duration_minutes=90)
    path = f"/api/meetings/{meeting['id']}"
    assert post(api, office["token"], f"{path}/token").status_code == 409  # not started yet
    assert post(api, office["token"], f"{path}/start").status_code == 200

    host = post(api, office["staff_token"], f"{path}/token").json()["data"]  # staff who scheduled it hosts
    claims = claims_of(stack, host["token"])
    assert host["role"] == "host" and claims.video.room_admin and claims.video.room == meeting["room_name"]
    assert claims.room_config is None  # the room is the server's: tokens carry grants only
    expires = datetime.fromisoformat(host["expires_at"])
    assert timedelta(minutes=30) <= expires - datetime.now(UTC) <= timedelta(hours=6)

    citizen = post(api, office["staff_token"], f"{path}/token", role="citizen", name="Lakshmi", phone="98400 12345")
    assert citizen.status_code == 200, citizen.text
    citizen_claims = claims_of(stack, citizen.json()["data"]["token"])
    assert citizen_claims.video.can_publish_sources == ["microphone"]
    assert not citizen_claims.video.can_publish_data and not citizen_claims.video.room_admin
    detail = api.request("GET", path, office["token"]).json()["data"]
    people = {p["role"]: p for p in detail["participants"]}
    assert people["citizen"]["name"] == "Lakshmi" and people["citizen"]["phone"] == "+919840012345"


def test_only_the_host_runs_the_meeting(api: Api, office: dict[str, Any]) -> None:
    meeting = scheduled(api, office["token"])  # the MLA admin's: staff join as staff
    path = f"/api/meetings/{meeting['id']}"
    assert post(api, office["staff_token"], f"{path}/start").status_code == 403
    assert post(api, office["token"], f"{path}/start").status_code == 200
    staff = post(api, office["staff_token"], f"{path}/token").json()["data"]
    assert staff["role"] == "staff" and not staff["grants"]["room_admin"]
    citizen = post(api, office["staff_token"], f"{path}/token", role="citizen", name="Ravi")
    assert citizen.status_code == 403
    assert post(api, office["staff_token"], f"{path}/recording/stop").status_code == 403
    assert post(api, office["staff_token"], f"{path}/end").status_code == 403


def test_the_host_mutes_removes_and_stops_the_recording(api: Api, office: dict[str, Any], stack: Any) -> None:
    meeting = scheduled(api, office["token"])
    path = f"/api/meetings/{meeting['id']}"
    post(api, office["token"], f"{path}/start")
    citizen = post(api, office["token"], f"{path}/token", role="citizen", name="Murugan").json()["data"]
    who = citizen["identity"]
    muted = post(api, office["token"], f"{path}/participants/{who}", action="mute")
    assert muted.status_code == 200 and muted.json()["data"]["muted"] is True
    unmuted = post(api, office["token"], f"{path}/participants/{who}", action="unmute")
    assert unmuted.json()["data"]["muted"] is False
    removed = post(api, office["token"], f"{path}/participants/{who}", action="remove")
    assert removed.json()["data"]["removed_at"] is not None
    updates = httpx.get(f"{stack.env['LIVEKIT_URL']}/local/participants", params={"room": meeting["room_name"]}).json()
    assert [u["method"] for u in updates] == ["UpdateParticipant", "UpdateParticipant", "RemoveParticipant"]
    assert updates[0]["permission"].get("can_publish", False) is False
    assert updates[1]["permission"]["can_publish_sources"] == ["MICROPHONE"]
    unknown = post(api, office["token"], f"{path}/participants/nobody", action="mute")
    assert unknown.status_code == 404

    stopped = post(api, office["token"], f"{path}/recording/stop")
    assert stopped.status_code == 200 and stopped.json()["data"]["recording"] == "stopped"
    room = standin_room(stack, meeting["room_name"])
    assert room["egresses"][0]["status"] == "EGRESS_COMPLETE"
    assert '"transcribing": false' in room["room"]["metadata"]
    services = get_services()
    late = NewSegment(participant_identity=who, language="ta", text="வணக்கம்", start_ms=0, end_ms=900, segment_key="k1")
    assert meetings.record_segments(services, office["tenant_id"], uuid.UUID(meeting["id"]), [late]) == []


def test_the_transcript_reads_in_order_and_as_text_and_webvtt(api: Api, office: dict[str, Any], stack: Any) -> None:
    meeting = scheduled(api, office["token"], title="Darbar")
    path = f"/api/meetings/{meeting['id']}"
    post(api, office["token"], f"{path}/start")
    citizen = post(api, office["token"], f"{path}/token", role="citizen", name="Hall", hall_microphone=True)
    hall = citizen.json()["data"]["identity"]
    services, meeting_id = get_services(), uuid.UUID(meeting["id"])
    said = [
        NewSegment(participant_identity=hall, speaker_label="S2", language="hi", text="सड़क टूटी है", start_ms=4_000,
                   end_ms=6_500, segment_key="b"),
        NewSegment(participant_identity=hall, speaker_label="S1", language="ta", text="தண்ணீர் வரவில்லை",
                   start_ms=1_000, end_ms=3_200, segment_key="a"),
    ]  # fmt: skip
    stored = meetings.record_segments(services, office["tenant_id"], meeting_id, said)
    assert len(stored) == 2
    assert meetings.record_segments(services, office["tenant_id"], meeting_id, said) == []  # a retry: once

    data = api.request("GET", f"{path}/transcript", office["staff_token"]).json()["data"]
    assert [s["text"] for s in data["segments"]] == ["தண்ணீர் வரவில்லை", "सड़क टूटी है"]
    assert data["segments"][0]["speaker"] == "Hall · S1"
    since = api.request("GET", f"{path}/transcript", office["token"], params={"after": max(stored) - 1})
    assert [s["id"] for s in since.json()["data"]["segments"]] == [max(stored)]

    text = api.request("GET", f"{path}/transcript.txt", office["token"])
    assert text.headers["content-type"].startswith("text/plain")
    assert "[00:00:01] Hall · S1 (ta): தண்ணீர் வரவில்லை" in text.text
    vtt = api.request("GET", f"{path}/transcript.vtt", office["token"])
    assert vtt.text.startswith("WEBVTT\n\n") and "00:00:01.000 --> 00:00:03.200" in vtt.text
    assert "<v Hall · S1><lang ta>தண்ணீர் வரவில்லை</lang></v>" in vtt.text

    ended = post(api, office["token"], f"{path}/end")
    assert ended.json()["data"]["status"] == "ended"
    assert httpx.get(f"{stack.env['LIVEKIT_URL']}/local/rooms/{meeting['room_name']}").status_code == 404
    staff_delete = api.request("DELETE", path, office["staff_token"])
    assert staff_delete.status_code == 403  # a meeting that was held: an MLA admin's


def test_another_office_sees_and_changes_nothing(
    api: Api, office: dict[str, Any], other_office: dict[str, Any]
) -> None:
    meeting = scheduled(api, office["token"])
    path = f"/api/meetings/{meeting['id']}"
    outsider = other_office["token"]
    assert meeting["id"] not in [m["id"] for m in api.request("GET", "/api/meetings", outsider).json()["data"]["items"]]
    for method, suffix, body in [
        ("GET", "", None), ("PUT", "", {"title": "mine"}), ("DELETE", "", None), ("POST", "/start", None),
        ("POST", "/end", None), ("POST", "/cancel", None), ("POST", "/token", None), ("GET", "/transcript", None),
        ("GET", "/transcript.txt", None), ("GET", "/transcript.vtt", None), ("POST", "/recording/stop", None),
        ("POST", "/participants/x", {"action": "remove"}),
    ]:  # fmt: skip
        response = api.request(method, path + suffix, outsider, json=body)
        assert response.status_code == 404, (method, suffix, response.text)
    assert api.request("GET", path, office["token"]).json()["data"]["status"] == "scheduled"
    assert api.request("GET", "/api/meetings", None).status_code == 401


def test_livekit_down_at_start_changes_nothing_and_a_retry_starts_it(
    api: Api, office: dict[str, Any], stack: Any
) -> None:
    meeting = scheduled(api, office["token"])
    path = f"/api/meetings/{meeting['id']}"
    fault = {"method": "livekit.RoomService/CreateRoom", "status": 503, "times": 1}
    assert httpx.post(f"{stack.env['LIVEKIT_URL']}/_standin/faults", json=fault).status_code in (200, 201, 204)
    refused = post(api, office["token"], f"{path}/start")
    assert refused.status_code == 503, refused.text
    assert api.request("GET", path, office["token"]).json()["data"]["status"] == "scheduled"
    assert post(api, office["token"], f"{path}/start").json()["data"]["status"] == "live"
