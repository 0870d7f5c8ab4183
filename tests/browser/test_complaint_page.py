"""A complaint's page as the office reads and works it, in Chromium: its SMS and its call in words in
Hindi and Tamil (issue 14), who acted on the timeline, a hidden caller's callback number, numbers to
call, no links to pages staff cannot open, and a duplicate checked, confirmed, linked and undone
(issue 15, items 2 and 8)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_support import screenshot
from playwright.sync_api import expect
from test_dashboard_words import in_language
from test_pages import accept_invitation, office

from mla_core.adapters import get_services
from mla_core.agents.routing import load_agent_config
from mla_core.calls.records import record_call
from mla_core.complaints import intake, store
from mla_core.complaints.intake import ComplaintDraft
from support import Api, unique_number

# What the SMS and call lines held as codes before (issue 14): none of them may be read on the page.
CODES = ("complaint_registered", "complaint_assigned", "complaint_resolved", "complaint_transferred", "queued",
         "sent", "failed", "in_progress", "completed", "missed", "complaint_logged", "caller_hung_up")  # fmt: skip
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def phoned(tenant_id: str, key: str, *, outcome: str, caller: str | None, callback: str | None = None) -> int:
    """A complaint the agent took on a call that ended with `outcome`, from `caller` (None: hidden)."""
    services = get_services()
    config = load_agent_config(services, tenant_id)
    assert config is not None
    room, started = f"mla-{tenant_id}-call_{key}", datetime.now(UTC) - timedelta(minutes=5)
    draft = ComplaintDraft(category="water", description="குடிநீர் வரவில்லை மூன்று நாட்களாக", location="Ward 12")
    logged = intake.log_complaint(
        services, config, draft, idempotency_key=f"page-{key}", caller_number=caller, callback_number=callback,
        language="ta", room_name=room,
    )  # fmt: skip
    record_call(
        services, tenant_id, room, caller_number=caller, dialed_number=config.phone_numbers[0], language="ta",
        started_at=started, ended_at=started + timedelta(seconds=95), outcome=outcome,
        transcript=[{"type": "message", "role": "caller", "text": "குடிநீர்"}], latency={}, notice_played_at=started,
    )  # fmt: skip
    return int(logged.reference)


def sms_rows(tenant_id: str, reference: int, to: str) -> None:
    """Three more SMS about the complaint: one waiting, one failed, one sent."""
    with get_services().db.transaction() as conn:
        for purpose, end in (("complaint_assigned", None), ("complaint_resolved", "failed"),
                             ("complaint_transferred", "sent")):  # fmt: skip
            sent = store.record_sms(
                conn, tenant_id, reference, to=to, purpose=purpose, language="ta", body="புகார் நிலை", template_id=""
            )
            assert sent is not None
            if end == "failed":
                store.mark_failed(conn, tenant_id, sent, "throttled")
            elif end == "sent":
                store.mark_sent(conn, tenant_id, sent, "msg-1")


@pytest.mark.parametrize("lang", ["hi", "ta"])
def test_the_sms_and_call_lines_are_words_with_dates_and_no_code_is_left(
    new_page: Any, api: Api, admin_token: str, lang: str
) -> None:
    tenant, page, _ = office(api, admin_token, new_page)
    caller = unique_number()
    reference = phoned(tenant["tenant_id"], f"words{lang}", outcome="complaint_logged", caller=caller)
    sms_rows(tenant["tenant_id"], reference, caller)
    odd = phoned(tenant["tenant_id"], f"odd{lang}", outcome="caller_hung_up_early", caller=unique_number())
    in_language(page, lang)

    page.goto(f"/app/complaints/{reference}")

    text = page.locator("main").inner_text()
    assert not [code for code in CODES if code in text], text
    assert not SNAKE.findall(text), SNAKE.findall(text)
    words = {
        "hi": ("शिकायत दर्ज होने का SMS", "भेजा गया", "अभी नहीं पहुंचा", "भेजा जाना बाकी", "कॉल पूरी हुई", "शिकायत दर्ज हुई"),
        "ta": ("புகார் பதிவு SMS", "அனுப்பப்பட்டது", "இன்னும் சேரவில்லை", "அனுப்பக் காத்திருக்கிறது", "அழைப்பு முடிந்தது",
               "புகார் பதிவானது"),
    }  # fmt: skip
    for word in words[lang]:
        assert word in text, word
    months = {"hi": "जन॰|फ़र॰|मार्च|अप्रैल|मई|जून|जुल॰|अग॰|सित॰|अक्तू॰|नव॰|दिस॰",
              "ta": "ஜன.|பிப்.|மார்.|ஏப்.|மே|ஜூன்|ஜூலை|ஆக.|செப்.|அக்.|நவ.|டிச."}  # fmt: skip
    lines = page.get_by_test_id("sms-line").all_inner_texts()
    assert len(lines) == 4 and all(re.search(months[lang], line) for line in lines), lines
    expect(page.get_by_test_id("call-summary")).to_contain_text(re.compile(months[lang]))
    screenshot(page, f"dashboard-complaint-sms-{lang}")

    page.goto(f"/app/complaints/{odd}")
    expect(page.get_by_test_id("call-summary")).to_contain_text("Caller hung up early")  # an outcome we lack words for
    assert not SNAKE.findall(page.locator("main").inner_text())


def test_the_timeline_names_who_acted_and_numbers_are_links_to_call(new_page: Any, api: Api, admin_token: str) -> None:
    tenant, page, _ = office(api, admin_token, new_page)
    caller = unique_number()
    reference = phoned(tenant["tenant_id"], "who", outcome="complaint_logged", caller=caller)
    page.goto(f"/app/complaints/{reference}")
    page.fill("#note", "Called the ward engineer")
    page.get_by_role("button", name="Add note").click()

    actors = page.locator("ol.timeline").get_by_test_id("actor").all_inner_texts()
    assert actors == ["the AI agent", "Office Admin"], actors
    assert "user" not in page.locator("ol.timeline").inner_text()
    number = page.get_by_test_id("caller-number")
    expect(number).to_have_attribute("href", f"tel:{caller}")
    expect(number).to_have_text(f"+91 {caller[3:8]} {caller[8:]}")


def test_a_hidden_callers_callback_number_is_not_shown_as_their_own(new_page: Any, api: Api, admin_token: str) -> None:
    tenant, page, _ = office(api, admin_token, new_page)
    callback = unique_number()
    reference = phoned(tenant["tenant_id"], "hidden", outcome="complaint_logged", caller=None, callback=callback)
    in_language(page, "ta")

    page.goto(f"/app/complaints/{reference}")

    expect(page.get_by_test_id("caller")).to_have_text("மறைக்கப்பட்ட எண்")
    expect(page.get_by_test_id("caller-number")).to_have_count(0)
    link = page.get_by_test_id("callback-number")
    expect(link).to_have_attribute("href", f"tel:{callback}")
    expect(link).to_have_text(f"+91 {callback[3:8]} {callback[8:]}")
    row = page.locator("tr", has=link)
    expect(row.locator("th")).to_contain_text("மறைந்த எண் அழைப்பாளர் தந்த SMS எண்")


def test_staff_see_no_link_to_a_page_they_cannot_open(new_page: Any, api: Api, admin_token: str) -> None:
    tenant, admin, token = office(api, admin_token, new_page)
    email = f"staff-{tenant['tenant_id']}@example.in"
    invited = api.request("POST", "/api/users/invite", token, json={"email": email, "role": "staff", "full_name": "S"})
    assert invited.status_code == 201, invited.text
    staff = new_page()
    accept_invitation(staff, api, email, "Staff One")

    for page, shown in ((admin, True), (staff, False)):
        page.goto("/app/complaints")
        nav = page.get_by_role("navigation", name="main")
        expect(nav.get_by_role("link", name="Complaints")).to_be_visible()
        for name in ("Team", "Agent settings", "Personal data"):
            expect(nav.get_by_role("link", name=name)).to_have_count(1 if shown else 0)
    for path in ("/app/team", "/app/agents", "/app/privacy"):
        assert staff.goto(path).status == 403


def test_a_duplicate_is_checked_confirmed_linked_both_ways_and_undone_by_an_admin(
    new_page: Any, api: Api, admin_token: str
) -> None:
    tenant, page, _ = office(api, admin_token, new_page)
    original = phoned(tenant["tenant_id"], "original", outcome="complaint_logged", caller=unique_number())
    copy = phoned(tenant["tenant_id"], "copy", outcome="complaint_logged", caller=unique_number())
    in_language(page, "hi")
    page.goto(f"/app/complaints/{copy}")

    page.select_option("#status", "duplicate")
    page.fill("#duplicate_of", "#987654")
    page.get_by_role("button", name="स्थिति बदलें").click()
    expect(page.locator("#duplicate_of-error")).to_have_text(
        "इस कार्यालय में इस संदर्भ की कोई शिकायत नहीं है: संख्या जांचें, जैसे #1002।"
    )
    expect(page.locator("h1")).to_contain_text(f"#{copy}")  # the page, with the error next to its field
    expect(page.locator("#duplicate_of")).to_have_value("#987654")

    page.fill("#duplicate_of", f"#{original}")
    page.get_by_role("button", name="स्थिति बदलें").click()
    summary = page.get_by_test_id("confirm-summary")
    expect(summary).to_contain_text(f"#{original}")
    expect(summary).to_contain_text("पानी")  # its category in words
    expect(summary).to_contain_text("नई")  # its status
    expect(summary).to_contain_text("குடிநீர் வரவில்லை")  # its first words
    screenshot(page, "dashboard-duplicate-confirm-hi")
    page.get_by_role("button", name=f"हां, #{original} की दोहराई के रूप में दर्ज करें").click()

    expect(page.get_by_test_id("status")).to_have_text("दोहराई गई")
    page.get_by_test_id("original").get_by_role("link", name=f"#{original}").click()
    expect(page.get_by_test_id("supporters")).to_contain_text("2")
    page.get_by_test_id("duplicates").get_by_role("link", name=f"#{copy}").click()

    page.fill("#undo_note", "अलग गली की शिकायत")
    page.get_by_role("button", name="वापस लें: यह दोहराई नहीं है").click()
    expect(page.get_by_test_id("notice")).to_have_text("यह अब दोहराई नहीं है: यह फिर से कार्यालय के काम में है।")
    expect(page.get_by_test_id("status")).to_have_text("नई")
    expect(page.locator("ol.timeline li").last).to_contain_text("अब दोहराई नहीं")
    expect(page.locator("ol.timeline li").last).to_contain_text("अलग गली की शिकायत")
    expect(page.get_by_test_id("original")).to_have_count(0)
    page.goto(f"/app/complaints/{original}")
    expect(page.get_by_test_id("supporters")).to_have_count(0)  # back to one: the row is not shown
    expect(page.get_by_test_id("duplicates")).to_have_count(0)
