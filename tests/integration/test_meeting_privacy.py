"""Meetings under a constituent's rights and the office's retention: an export holds the meetings a number
took part in and what it said; an erasure leaves the number and the words nowhere in the meetings (another
citizen's words stay, redacted only where they say the number; the recording, everyone's voices, is kept
and the erasure says so); retention deletes old transcripts and citizens' numbers, and old recordings
from the bucket (moto S3), retrying those S3 refused on the next run; another office is never touched."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_personal_data import admin_of, sql_rows

from mla_core.adapters import get_services
from mla_core.adapters.aws import AwsTimeouts, Recordings
from mla_core.meetings import meetings
from mla_core.meetings.models import NewSegment
from mla_core.meetings.personal_data import ERASED_NAME, ERASED_TEXT
from mla_core.privacy import requests, retention
from privacy_support import search_everywhere, spaced
from support import Api, tenant_body, unique_number

SOON = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body(languages=["ta", "hi"]))


@pytest.fixture(scope="module")
def other_office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body())


@pytest.fixture(scope="module")
def bucket(stack: Any) -> Any:
    """The local stack's recordings bucket in moto, and its S3 client."""
    s3 = stack.moto.client("s3")
    name = stack.env["MEETING_RECORDINGS_BUCKET"]
    if name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    return s3


def live_meeting(api: Api, office: dict[str, Any], title: str = "Janata darbar, Ward 12") -> dict[str, Any]:
    body = {"kind": "janata_darbar", "title": title, "scheduled_at": SOON}
    meeting = api.request("POST", "/api/meetings", office["token"], json=body).json()["data"]
    started = api.request("POST", f"/api/meetings/{meeting['id']}/start", office["token"])
    assert started.status_code == 200, started.text
    return dict(started.json()["data"])


def citizen(api: Api, office: dict[str, Any], meeting: dict[str, Any], name: str, phone: str | None) -> str:
    """A citizen's token from the host, their number kept with the meeting; their identity."""
    body = {"role": "citizen", "name": name, "phone": phone}
    response = api.request("POST", f"/api/meetings/{meeting['id']}/token", office["token"], json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["identity"])


def said(office: dict[str, Any], meeting: dict[str, Any], *lines: tuple[str, str]) -> None:
    """`lines` (identity, words) stored as the note-taker stores them, a second apart."""
    segments = [
        NewSegment(participant_identity=who, language="ta", text=text, start_ms=i * 1000, end_ms=i * 1000 + 900,
                   segment_key=f"{who}-{i}")
        for i, (who, text) in enumerate(lines)
    ]  # fmt: skip
    stored = meetings.record_segments(get_services(), office["tenant_id"], uuid.UUID(meeting["id"]), segments)
    assert len(stored) == len(lines)


def recorded(stack: Any, bucket: Any, office: dict[str, Any], meeting: dict[str, Any]) -> str:
    """The meeting's recording in the bucket, its location stored as LiveKit's egress_ended names it."""
    key = f"recordings/{office['tenant_id']}/{meeting['id']}/{meeting['room_name']}-0.ogg"
    bucket.put_object(Bucket=stack.env["MEETING_RECORDINGS_BUCKET"], Key=key, Body=b"OggS")
    location = f"s3://{stack.env['MEETING_RECORDINGS_BUCKET']}/{key}"
    sql_rows(
        stack,
        "UPDATE {schema}.meetings SET recording = 'stored', recording_url = %s WHERE id = %s",
        location,
        meeting["id"],
        tenant_id=office["tenant_id"],
    )
    return key


def in_bucket(stack: Any, bucket: Any, key: str) -> bool:
    listed = bucket.list_objects_v2(Bucket=stack.env["MEETING_RECORDINGS_BUCKET"], Prefix=key)
    return bool(listed.get("KeyCount"))


def held_days_ago(stack: Any, office: dict[str, Any], meeting: dict[str, Any], days: int) -> None:
    sql_rows(
        stack,
        "UPDATE {schema}.meetings SET status = 'ended', started_at = now() - make_interval(days => %s),"
        " ended_at = now() - make_interval(days => %s) + interval '1 hour' WHERE id = %s",
        days,
        days,
        meeting["id"],
        tenant_id=office["tenant_id"],
    )


def segments_of(stack: Any, office: dict[str, Any], meeting: dict[str, Any]) -> list[dict[str, Any]]:
    return sql_rows(
        stack,
        "SELECT participant_identity, text FROM {schema}.meeting_segments WHERE meeting_id = %s ORDER BY start_ms",
        meeting["id"],
        tenant_id=office["tenant_id"],
    )


def participants_of(stack: Any, office: dict[str, Any], meeting: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = sql_rows(
        stack,
        "SELECT identity, name, phone FROM {schema}.meeting_participants WHERE meeting_id = %s",
        meeting["id"],
        tenant_id=office["tenant_id"],
    )
    return {row["identity"]: row for row in rows}


def test_an_export_holds_the_meetings_a_number_took_part_in_and_what_it_said(
    api: Api, office: dict[str, Any], stack: Any, bucket: Any
) -> None:
    n, neighbour = unique_number(), unique_number()
    darbar = live_meeting(api, office)
    lakshmi = citizen(api, office, darbar, "Lakshmi", spaced(n))
    ravi = citizen(api, office, darbar, "Ravi", neighbour)
    said(office, darbar, (lakshmi, "தண்ணீர் வரவில்லை"), (ravi, f"Her number is {spaced(n)}"), (lakshmi, "நன்றி"))
    recorded(stack, bucket, office, darbar)

    document = requests.export(get_services(), admin_of(office), n)

    sections = document["sections"]
    [took_part] = sections["meetings"]
    assert (took_part["name"], took_part["phone"], took_part["role"]) == ("Lakshmi", n, "citizen")
    assert took_part["meeting"]["id"] == darbar["id"] and took_part["meeting"]["title"] == "Janata darbar, Ward 12"
    assert [s["text"] for s in sections["meeting_segments"]] == ["தண்ணீர் வரவில்லை", "நன்றி"]
    assert [r["meeting_id"] for r in sections["meeting_recordings"]] == [darbar["id"]]
    assert [s["text"] for s in sections["meeting_segments_mentioning"]] == [f"Her number is {spaced(n)}"]
    summary = requests.summary(get_services(), admin_of(office), n)
    assert summary.counts["meetings"] == 1 and summary.counts["meeting_segments"] == 2
    assert requests.export(get_services(), admin_of(office), unique_number())["sections"]["meetings"] == []


def test_an_erasure_leaves_the_number_and_words_nowhere_in_meetings_and_keeps_the_others(
    api: Api, office: dict[str, Any], stack: Any, bucket: Any
) -> None:
    services, who, n, neighbour = get_services(), admin_of(office), unique_number(), unique_number()
    darbar = live_meeting(api, office)
    lakshmi = citizen(api, office, darbar, "Lakshmi", n)
    ravi = citizen(api, office, darbar, "Ravi", neighbour)
    hall = citizen(api, office, darbar, "Hall", None)
    said(
        office, darbar,
        (lakshmi, "Our street has no water"), (ravi, f"Call her on {spaced(n)}"), (ravi, "The road is broken"),
        (hall, "சாலை சரியில்லை"),
    )  # fmt: skip
    key = recorded(stack, bucket, office, darbar)
    before = participants_of(stack, office, darbar)

    preview = requests.preview(services, who, n)
    assert any("kept until retention deletes them" in sentence for sentence in preview.effects)
    result = requests.erase(services, who, n, preview.confirmation)

    assert result.counts["meetings"] == 1 and result.counts["meeting_segments"] == 1
    assert result.counts["meeting_segments_mentioning"] == 1 and result.counts["meeting_recordings_kept"] == 1
    assert "objects" not in result.pending  # the recording is kept, not waiting to be deleted
    assert [f for f in search_everywhere(stack, office["tenant_id"], n) if "meeting" in f] == []
    assert [s["text"] for s in segments_of(stack, office, darbar)] == [
        ERASED_TEXT, "Call her on [number erased]", "The road is broken", "சாலை சரியில்லை",
    ]  # fmt: skip
    after = participants_of(stack, office, darbar)
    assert (after[lakshmi]["name"], after[lakshmi]["phone"]) == (ERASED_NAME, None)
    assert {k: v for k, v in after.items() if k != lakshmi} == {k: v for k, v in before.items() if k != lakshmi}
    assert in_bucket(stack, bucket, key)
    assert requests.export(services, who, neighbour)["sections"]["meetings"][0]["name"] == "Ravi"
    transcript = api.request("GET", f"/api/meetings/{darbar['id']}/transcript", office["token"]).json()["data"]
    assert transcript["segments"][0]["speaker"] == ERASED_NAME


def test_erasing_in_one_office_touches_nothing_in_another(
    api: Api, office: dict[str, Any], other_office: dict[str, Any], stack: Any
) -> None:
    n = unique_number()
    here, there = live_meeting(api, office), live_meeting(api, other_office)
    said(office, here, (citizen(api, office, here, "Murugan", n), "Bus stop needs a shed"))
    theirs = citizen(api, other_office, there, "Murugan", n)
    said(other_office, there, (theirs, "Bus stop needs a shed"))
    before = (participants_of(stack, other_office, there), segments_of(stack, other_office, there))

    services = get_services()
    preview = requests.preview(services, admin_of(office), n)
    requests.erase(services, admin_of(office), n, preview.confirmation)

    assert (participants_of(stack, other_office, there), segments_of(stack, other_office, there)) == before
    assert participants_of(stack, other_office, there)[theirs]["phone"] == n
    assert requests.summary(services, admin_of(other_office), n).counts["meeting_segments"] == 1


def test_retention_removes_old_transcripts_numbers_and_recordings_and_keeps_recent_ones(
    api: Api, admin_token: str, stack: Any, bucket: Any
) -> None:
    office = api.office_admin(admin_token, tenant_body())
    old, middling, recent = (live_meeting(api, office, title) for title in ("Old", "Middling", "Recent"))
    numbers = {}
    keys = {}
    for meeting in (old, middling, recent):
        numbers[meeting["title"]] = unique_number()
        said(office, meeting, (citizen(api, office, meeting, "Selvam", numbers[meeting["title"]]), "Ration card"))
        keys[meeting["title"]] = recorded(stack, bucket, office, meeting)
    held_days_ago(stack, office, old, 400)  # past the transcripts' 365 days and the recordings' 90
    held_days_ago(stack, office, middling, 100)  # past the recordings' 90 only

    dry = retention.apply_retention(get_services(), now=datetime.now(UTC), dry_run=True, tenant_id=office["tenant_id"])
    assert dry.tenants[0].counts["meeting_recordings"] == 2 and in_bucket(stack, bucket, keys["Old"])
    ran = retention.apply_retention(get_services(), now=datetime.now(UTC), tenant_id=office["tenant_id"])

    [run] = ran.tenants
    assert run.counts["meeting_segments"] == 1 and run.counts["meeting_participants"] == 1
    assert run.counts["meeting_recordings"] == 2 and "objects" not in run.pending
    assert [in_bucket(stack, bucket, keys[t]) for t in ("Old", "Middling", "Recent")] == [False, False, True]
    assert segments_of(stack, office, old) == []
    [selvam] = participants_of(stack, office, old).values()
    assert (selvam["name"], selvam["phone"]) == (ERASED_NAME, None)
    assert search_everywhere(stack, office["tenant_id"], numbers["Old"]) == []
    assert [s["text"] for s in segments_of(stack, office, middling)] == ["Ration card"]
    urls = sql_rows(stack, "SELECT title, recording_url FROM {schema}.meetings", tenant_id=office["tenant_id"])
    assert {row["title"]: row["recording_url"] is not None for row in urls} == {
        "Old": False, "Middling": False, "Recent": True,
    }  # fmt: skip
    again = retention.apply_retention(get_services(), now=datetime.now(UTC), tenant_id=office["tenant_id"])
    assert not any(again.tenants[0].counts.get(k) for k in ("meeting_segments", "meeting_recordings"))


def test_a_recording_s3_would_not_delete_is_deleted_by_the_next_run(
    api: Api, admin_token: str, stack: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = api.office_admin(admin_token, tenant_body())
    meeting = live_meeting(api, office)
    key = recorded(stack, bucket, office, meeting)
    held_days_ago(stack, office, meeting, 100)
    services = get_services()
    s = services.settings
    # S3 unreachable for this run: a client of its own (one attempt) pointed at a closed port.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    unreachable = Recordings(s.meeting_recordings_region, s.meeting_recordings_bucket, AwsTimeouts(0.5, 0.5, 1))
    monkeypatch.setitem(services.__dict__, "recordings", unreachable)

    first = retention.apply_retention(services, now=datetime.now(UTC), tenant_id=office["tenant_id"])
    monkeypatch.undo()
    assert first.tenants[0].counts["meeting_recordings"] == 1
    assert [o.endswith(key) for o in first.tenants[0].pending["objects"]] == [True]
    assert in_bucket(stack, bucket, key)
    second = retention.apply_retention(get_services(), now=datetime.now(UTC), tenant_id=office["tenant_id"])

    assert not in_bucket(stack, bucket, key) and "objects" not in second.tenants[0].pending
