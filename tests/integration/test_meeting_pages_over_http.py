"""The meetings' pages (`/app/meetings`, issue 19) as a browser without JavaScript uses them, over the
local stack: the list (upcoming, past, by status and kind) and the calendar in IST, the schedule and
edit forms refused next to their fields in the reader's language, cancel and delete asked first, the
live page's host controls (start, mute, remove and stop recording asked first, end), the transcript
read after a segment, its page and files; joining says it needs LiveKit; another office gets 404."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mla_core.adapters import get_services
from mla_core.meetings import meetings
from mla_core.meetings.models import NewSegment
from mla_core.web.rendering import IST
from support import Api, Pages, tenant_body


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    office = api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))
    return {**office, "staff_token": api.staff_of(office)}


@pytest.fixture(scope="module")
def other_office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body())


def browser(token: str, api: Api, lang: str = "en") -> Pages:
    return Pages(api.http, mla_session=token, mla_lang=lang)


def scheduled(api: Api, token: str, **body: Any) -> dict[str, Any]:
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"kind": "janata_darbar", "title": "Janata darbar, Ward 12", "scheduled_at": soon, **body}
    response = api.request("POST", "/api/meetings", token, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def detail(api: Api, token: str, meeting_id: str) -> dict[str, Any]:
    return dict(api.request("GET", f"/api/meetings/{meeting_id}", token).json()["data"])


def form_fields(**more: str) -> dict[str, str]:
    return {"kind": "public_hearing", "title": "Hearing on the new bus stand", "date": "2027-02-03",
            "time": "16:30", "duration_minutes": "90", "main_language": "ta", "languages": "en",
            "location": "Town hall", "agenda": "Bus stand\nRoads", "record": "true", **more}  # fmt: skip


def test_a_meeting_is_scheduled_in_ist_and_shows_on_the_list_and_the_calendar(api: Api, office: dict[str, Any]) -> None:
    pages = browser(office["staff_token"], api)
    blank = pages.send("GET", "/app/meetings/new")
    assert (
        blank.status_code == 200 and 'name="date"' in blank.text and 'name="record" value="true" checked' in blank.text
    )
    created = pages.post("/app/meetings/new", "/app/meetings/new", **form_fields())
    assert created.status_code == 303, created.text
    meeting_id = created.headers["location"].rsplit("/", 1)[1]
    meeting = detail(api, office["token"], meeting_id)
    assert datetime.fromisoformat(meeting["scheduled_at"]) == datetime(2027, 2, 3, 16, 30, tzinfo=IST)
    assert meeting["languages"] == ["ta", "en"] and meeting["duration_minutes"] == 90
    assert meeting["agenda"] == "Bus stand\nRoads" and meeting["recording_wanted"] is True

    page = pages.send("GET", f"/app/meetings/{meeting_id}")
    assert page.status_code == 200
    assert "Public hearing · 3 Feb 2027, 16:30 IST · 90 minutes" in page.text
    assert "<bdi>Town hall</bdi>" in page.text and 'data-testid="start"' in page.text  # who scheduled it hosts
    assert '<a href="/app/meetings" aria-current="page">Meetings</a>' in page.text

    upcoming = pages.send("GET", "/app/meetings?kind=public_hearing")
    assert f'href="/app/meetings/{meeting_id}"' in upcoming.text
    assert f'href="/app/meetings/{meeting_id}"' not in pages.send("GET", "/app/meetings?when=past").text
    assert f'href="/app/meetings/{meeting_id}"' not in pages.send("GET", "/app/meetings?kind=staff").text
    month = pages.send("GET", "/app/meetings/calendar?view=month&day=2027-02-10")
    day = re.search(r'data-day="2027-02-03".*?</td>', month.text, re.S)
    assert day and "16:30" in day.group(0) and "Hearing on the new bus stand" in day.group(0)
    week = pages.send("GET", "/app/meetings/calendar?view=week&day=2027-02-03")
    assert 'data-day="2027-02-01"' in week.text and 'data-day="2027-02-07"' in week.text  # Monday to Sunday
    assert 'data-day="2027-02-08"' not in week.text


def test_a_meeting_late_in_the_evening_ist_is_on_its_indian_day(api: Api, office: dict[str, Any]) -> None:
    """23:30 IST is 18:00 UTC the same day, and 00:30 IST is the evening before in UTC."""
    late = scheduled(api, office["token"], title="Late darbar", scheduled_at="2027-03-09T00:30:00+05:30")
    month = browser(office["token"], api).send("GET", "/app/meetings/calendar?view=month&day=2027-03-01").text
    day = re.search(r'data-day="2027-03-09".*?</td>', month, re.S)
    assert day and "00:30" in day.group(0) and late["title"] in day.group(0)


def test_the_forms_errors_are_shown_next_to_their_fields_in_the_readers_language(
    api: Api, office: dict[str, Any]
) -> None:
    pages = browser(office["token"], api, "hi")
    refused = pages.post(
        "/app/meetings/new", "/app/meetings/new", **form_fields(title="   ", duration_minutes="1", kind="party")
    )
    assert refused.status_code == 422
    assert "बैठक का शीर्षक लिखें, अधिकतम 200 अक्षर।" in refused.text
    assert "अवधि पूरे मिनटों में लिखें, 5 से 720 तक।" in refused.text
    assert "सूची में से बैठक का प्रकार चुनें।" in refused.text
    assert 'value="Town hall"' in refused.text  # what was typed stays
    no_time = browser(office["token"], api, "ta").post("/app/meetings/new", "/app/meetings/new", **form_fields(time=""))
    assert no_time.status_code == 422 and "தொடங்கும் நேரத்தை உள்ளிடவும், எ.கா. 10:30." in no_time.text
    bad_filter = pages.send("GET", "/app/meetings?status=bogus")
    assert bad_filter.status_code == 200 and "सूची में से एक चुनें।" in bad_filter.text
    assert 'data-testid="meeting-row"' not in bad_filter.text


def test_an_edit_saves_with_its_version_and_one_made_meanwhile_is_shown_not_overwritten(
    api: Api, office: dict[str, Any]
) -> None:
    meeting = scheduled(api, office["token"])
    pages, path = browser(office["token"], api), f"/app/meetings/{meeting['id']}/edit"
    form = pages.send("GET", path)
    assert 'name="version" value="1"' in form.text and 'value="Janata darbar, Ward 12"' in form.text
    saved = pages.post(path, **form_fields(title="Darbar moved", version="1"))
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
    assert detail(api, office["token"], meeting["id"])["title"] == "Darbar moved"
    stale = pages.post(path, **form_fields(title="An old form", version="1"))
    assert stale.status_code == 409 and "Someone else changed this meeting first" in stale.text
    assert 'value="Darbar moved"' in stale.text and 'name="version" value="2"' in stale.text


def test_cancel_and_delete_are_asked_first(api: Api, office: dict[str, Any]) -> None:
    meeting = scheduled(api, office["token"])
    pages, base = browser(office["staff_token"], api, "ta"), f"/app/meetings/{meeting['id']}"
    asked = pages.post(f"{base}/cancel", base)
    assert asked.status_code == 200 and "இந்தக் கூட்டத்தை ரத்து செய்யவா?" in asked.text
    assert detail(api, office["token"], meeting["id"])["status"] == "scheduled"
    assert pages.post(f"{base}/cancel", base, confirm="cancel").status_code == 303
    assert detail(api, office["token"], meeting["id"])["status"] == "cancelled"
    assert "இந்தக் கூட்டத்தை நீக்கவா?" in pages.post(f"{base}/delete", base).text
    deleted = pages.post(f"{base}/delete", base, confirm="delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/app/meetings?deleted=1"
    assert api.request("GET", f"/api/meetings/{meeting['id']}", office["token"]).status_code == 404


def test_the_host_runs_the_live_meeting_and_the_transcript_reads_after_a_segment(
    api: Api, office: dict[str, Any], stack: Any
) -> None:
    meeting = scheduled(api, office["token"], title="Darbar")
    pages, base = browser(office["token"], api), f"/app/meetings/{meeting['id']}"
    assert 'data-testid="start"' in pages.send("GET", base).text
    assert pages.post(f"{base}/start", base).status_code == 303
    live = pages.send("GET", base)
    assert 'data-status="live"' in live.text and "Joining in the browser needs a LiveKit server" in live.text
    joined = pages.post(f"{base}/token", base)
    assert joined.status_code == 409  # the local stand-in: no SFU for a browser
    citizen = api.request("POST", f"/api/meetings/{meeting['id']}/token", office["token"],
                          json={"role": "citizen", "name": "Murugan"}).json()["data"]  # fmt: skip
    who = citizen["identity"]
    said = [NewSegment(participant_identity=who, language="ta", text="தண்ணீர் வரவில்லை", start_ms=61_000,
                       end_ms=63_000, segment_key="a")]  # fmt: skip
    [first] = meetings.record_segments(get_services(), office["tenant_id"], uuid.UUID(meeting["id"]), said)

    page = pages.send("GET", base)
    assert "<bdi>Murugan</bdi>" in page.text and "தண்ணீர் வரவில்லை" in page.text and "00:01:01" in page.text
    assert f'id="segments-after" name="after" value="{first}"' in page.text
    assert "தண்ணீர்" not in pages.send("GET", f"{base}/segments?after={first}").text
    assert "தண்ணீர்" in pages.send("GET", f"{base}/segments?after=0").text

    assert pages.post(f"{base}/participants/{who}", base, action="mute").status_code == 303
    assert detail(api, office["token"], meeting["id"])["participants"][0]["muted"] is True
    asked = pages.post(f"{base}/participants/{who}", base, action="remove")
    assert "Remove this person from the meeting?" in asked.text and "<bdi>Murugan</bdi>" in asked.text
    assert pages.post(f"{base}/participants/{who}", base, action="remove", confirm="remove").status_code == 303
    assert detail(api, office["token"], meeting["id"])["participants"][0]["removed_at"] is not None
    unknown = pages.post(f"{base}/participants/nobody", base, action="mute")
    assert unknown.status_code == 404 and 'data-testid="refused"' in unknown.text

    assert "Stop the recording?" in pages.post(f"{base}/recording/stop", base).text
    assert detail(api, office["token"], meeting["id"])["recording"] == "recording"
    assert pages.post(f"{base}/recording/stop", base, confirm="stop").status_code == 303
    assert detail(api, office["token"], meeting["id"])["recording"] == "stopped"
    refused = browser(office["token"], api, "hi").post(f"{base}/cancel", base, confirm="cancel")
    assert refused.status_code == 409 and "यह अभी नहीं हो सकता: बैठक की स्थिति: अभी चल रही है।" in refused.text
    assert "End the meeting for everyone?" in pages.post(f"{base}/end", base).text
    assert pages.post(f"{base}/end", base, confirm="end").status_code == 303
    assert detail(api, office["token"], meeting["id"])["status"] == "ended"

    transcript = pages.send("GET", f"{base}/transcript")
    assert transcript.status_code == 200 and "தண்ணீர் வரவில்லை" in transcript.text
    assert f'href="{base}/transcript.txt"' in transcript.text and f'href="{base}/transcript.vtt"' in transcript.text
    text = pages.send("GET", f"{base}/transcript.txt")
    assert text.headers["content-type"].startswith("text/plain") and "attachment" in text.headers["content-disposition"]
    assert "[00:01:01] Murugan (ta): தண்ணீர் வரவில்லை" in text.text
    vtt = pages.send("GET", f"{base}/transcript.vtt")
    assert vtt.text.startswith("WEBVTT") and "00:01:01.000 --> 00:01:03.000" in vtt.text


def test_staff_do_not_host_and_a_held_meeting_is_deleted_by_an_admin_only(api: Api, office: dict[str, Any]) -> None:
    meeting = scheduled(api, office["token"])
    base = f"/app/meetings/{meeting['id']}"
    staff = browser(office["staff_token"], api)
    refused = staff.post(f"{base}/start", base)
    assert refused.status_code == 403 and "Only the meeting&#39;s host" in refused.text
    admin = browser(office["token"], api)
    admin.post(f"{base}/start", base)
    admin.post(f"{base}/end", base, confirm="end")
    assert 'data-testid="delete"' not in staff.send("GET", base).text
    assert 'data-testid="delete"' in admin.send("GET", base).text


def test_another_office_gets_404_on_every_meeting_page(
    api: Api, office: dict[str, Any], other_office: dict[str, Any]
) -> None:
    meeting = scheduled(api, office["token"], title="Only ours")
    outsider, base = browser(other_office["token"], api), f"/app/meetings/{meeting['id']}"
    assert "Only ours" not in outsider.send("GET", "/app/meetings?when=all").text
    assert "Only ours" not in outsider.send("GET", "/app/meetings/calendar?view=month").text
    for path in ("", "/edit", "/segments", "/transcript", "/transcript.txt", "/transcript.vtt"):
        assert outsider.send("GET", base + path).status_code == 404, path
    csrf = outsider.csrf("/app/meetings/new")
    for path, form in (("/edit", form_fields()), ("/cancel", {"confirm": "cancel"}), ("/delete", {"confirm": "delete"}),
                       ("/start", {}), ("/end", {"confirm": "end"}), ("/recording/stop", {"confirm": "stop"}),
                       ("/participants/x", {"action": "remove", "confirm": "remove"})):  # fmt: skip
        response = outsider.send("POST", base + path, data={"csrf": csrf, **form})
        assert response.status_code == 404, (path, response.status_code)
    assert detail(api, office["token"], meeting["id"])["status"] == "scheduled"
