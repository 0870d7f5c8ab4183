"""The meetings' pages (issue 19) in Chromium: a meeting scheduled from the navigation and found on the
list and the calendar, the schedule form's errors in the reader's language, the live page's transcript
growing as the note-taker stores segments (no reload), and every meetings page reading in English,
Hindi and Tamil. The rest (another office, refused input, each action) is over HTTP in
tests/integration/test_meeting_pages_over_http.py."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_support import screenshot
from playwright.sync_api import expect
from test_every_page_in_words import in_language, read
from test_pages import office

from mla_core.adapters import get_services
from mla_core.meetings import meetings
from mla_core.meetings.models import NewSegment
from mla_core.web.i18n import translator
from support import Api

LANGS = ("en", "hi", "ta")
WORDS = {
    "en": {"title_error": "Give the meeting a title, up to 200 characters."},
    "hi": {"title_error": "बैठक का शीर्षक लिखें, अधिकतम 200 अक्षर।"},
    "ta": {"title_error": "கூட்டத்திற்கு ஒரு தலைப்பைக் கொடுக்கவும், அதிகபட்சம் 200 எழுத்துகள்."},
}  # fmt: skip


def scheduled(api: Api, token: str, **body: Any) -> dict[str, Any]:
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"kind": "janata_darbar", "title": "Janata darbar, Ward 12", "scheduled_at": soon, **body}
    response = api.request("POST", "/api/meetings", token, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def started(api: Api, token: str, **body: Any) -> tuple[dict[str, Any], str]:
    """A live meeting and a citizen's identity in it (the hall microphone)."""
    meeting = scheduled(api, token, **body)
    assert api.request("POST", f"/api/meetings/{meeting['id']}/start", token).status_code == 200
    citizen = api.request("POST", f"/api/meetings/{meeting['id']}/token", token,
                          json={"role": "citizen", "name": "Hall", "hall_microphone": True})  # fmt: skip
    assert citizen.status_code == 200, citizen.text
    return meeting, str(citizen.json()["data"]["identity"])


def say(tenant_id: str, meeting_id: str, identity: str, text: str, language: str, at_ms: int) -> None:
    segment = NewSegment(participant_identity=identity, speaker_label="S1", language=language, text=text,
                         start_ms=at_ms, end_ms=at_ms + 2_000, segment_key=f"{meeting_id}-{at_ms}")  # fmt: skip
    assert meetings.record_segments(get_services(), tenant_id, uuid.UUID(meeting_id), [segment])


def test_a_meeting_scheduled_from_the_navigation_is_on_the_list_and_the_calendar(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page, _ = office(api, admin_token, new_page)
    page.get_by_role("navigation").get_by_role("link", name="Meetings").click()
    page.get_by_test_id("schedule").click()
    page.select_option("#kind", "public_hearing")
    page.fill("#title", "Hearing on the bus stand")
    page.fill("#date", "2027-02-03")
    page.fill("#time", "16:30")
    page.fill("#duration_minutes", "90")
    page.fill("#location", "Town hall")
    page.get_by_role("button", name="Schedule a meeting").click()

    expect(page).to_have_url(re.compile(r"/app/meetings/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("meeting-facts")).to_contain_text("Public hearing · 3 Feb 2027, 16:30 IST · 90 minutes")
    expect(page.get_by_test_id("meeting-status")).to_have_text("Scheduled")
    page.goto("/app/meetings/calendar?view=month&day=2027-02-01")
    day = page.locator('[data-day="2027-02-03"]')
    expect(day.get_by_test_id("calendar-meeting")).to_contain_text("16:30 Hearing on the bus stand")
    screenshot(page, "meetings-calendar-month")
    page.goto("/app/meetings?when=all&kind=public_hearing")
    expect(page.get_by_test_id("meeting-row")).to_have_count(1)


@pytest.mark.parametrize("lang", ["ta", "hi"])
def test_the_schedule_form_says_what_is_wrong_in_the_readers_language(
    new_page: Any, api: Api, admin_token: str, lang: str
) -> None:
    _, page, _ = office(api, admin_token, new_page)
    in_language(page, lang)
    page.goto("/app/meetings/new")
    page.fill("#title", "   ")  # past the browser's own check: refused by the page
    page.fill("#location", "Town hall")
    page.locator("form[data-testid=meeting-form] [type=submit]").click()

    expect(page.locator("#title-error")).to_have_text(WORDS[lang]["title_error"])
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#location")).to_have_value("Town hall")
    screenshot(page, f"meetings-form-refused-{lang}")


def test_the_live_transcript_grows_as_segments_are_stored_without_a_reload(
    new_page: Any, api: Api, admin_token: str
) -> None:
    tenant, page, token = office(api, admin_token, new_page)
    meeting, hall = started(api, token, title="Darbar")
    say(tenant["tenant_id"], meeting["id"], hall, "குடிநீர் வரவில்லை", "ta", 1_000)
    page.goto(f"/app/meetings/{meeting['id']}")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "on")
    expect(page.get_by_test_id("segment")).to_have_count(1)
    expect(page.get_by_test_id("join-needs-livekit")).to_be_visible()  # the local stand-in has no SFU
    page.evaluate("window.notReloaded = true")

    say(tenant["tenant_id"], meeting["id"], hall, "सड़क टूटी है", "hi", 4_000)
    say(tenant["tenant_id"], meeting["id"], hall, "The street light is out", "en", 8_000)

    segments = page.get_by_test_id("segment")
    expect(segments).to_have_count(3)
    expect(segments.nth(1).get_by_test_id("segment-text")).to_have_text("सड़क टूटी है")
    expect(segments.nth(2)).to_contain_text("00:00:08")
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_test_id("no-segments")).to_be_hidden()
    screenshot(page, "meetings-live-transcript")

    api.request("POST", f"/api/meetings/{meeting['id']}/end", token)  # the state re-reads on its own
    expect(page.get_by_test_id("meeting-status")).to_have_text("Ended")


def test_every_meetings_page_reads_in_each_language(new_page: Any, api: Api, admin_token: str) -> None:
    tenant, page, token = office(api, admin_token, new_page)
    upcoming = scheduled(api, token, agenda="Water supply\nRoads", location="Community hall")
    live, hall = started(api, token, title="Darbar, Ward 5")
    say(tenant["tenant_id"], live["id"], hall, "குடிநீர் வரவில்லை", "ta", 1_000)
    ended, _ = started(api, token, kind="staff", title="Staff meeting")
    api.request("POST", f"/api/meetings/{ended['id']}/end", token)
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    pages = {
        "list": "/app/meetings",
        "list-past": "/app/meetings?when=past",
        "list-all": "/app/meetings?when=all",
        "calendar-week": f"/app/meetings/calendar?view=week&day={day}",
        "calendar-month": f"/app/meetings/calendar?view=month&day={day}",
        "new": "/app/meetings/new",
        "edit": f"/app/meetings/{upcoming['id']}/edit",
        "edit-live": f"/app/meetings/{live['id']}/edit",
        "scheduled": f"/app/meetings/{upcoming['id']}",
        "live": f"/app/meetings/{live['id']}",
        "ended": f"/app/meetings/{ended['id']}",
        "transcript": f"/app/meetings/{live['id']}/transcript",
        "transcript-empty": f"/app/meetings/{ended['id']}/transcript",
    }
    found: list[str] = []
    for lang in LANGS:
        in_language(page, lang)
        for name, path in pages.items():
            found += read(page, lang, f"meetings-{name}", path)
        page.goto(f"/app/meetings/{live['id']}")
        page.get_by_test_id("stop-recording").click()
        found += read(page, lang, "meetings-stop-asked")
        page.goto(f"/app/meetings/{live['id']}")
        page.get_by_test_id("participant").first.get_by_test_id("remove").click()
        found += read(page, lang, "meetings-remove-asked")
        page.goto(f"/app/meetings/{upcoming['id']}")
        page.get_by_test_id("cancel").click()
        found += read(page, lang, "meetings-cancel-asked")
        page.goto("/app/meetings/new")
        page.fill("#title", "   ")
        page.locator("form[data-testid=meeting-form] [type=submit]").click()
        found += read(page, lang, "meetings-refused")
        expect(page.get_by_role("navigation").get_by_role("link", name=translator(lang)("meetings"))).to_be_visible()
    assert not found, "\n".join(found)
