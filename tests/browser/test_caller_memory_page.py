"""The caller's page (issue 18) as a staff member works it, in Chromium, in Tamil and in English: from
a complaint to what the office remembers about its caller, a value corrected, a fact deleted after
being asked, and each change on the item's history naming who made it; no number in any address.
Another office and refused input are tested over HTTP (tests/integration/test_caller_page_over_http.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_support import screenshot
from playwright.sync_api import expect
from test_dashboard_words import in_language
from test_pages import accept_invitation, office

from support import Api, unique_number

WORDS = {
    "ta": {"ward": "வார்டு", "language": "விரும்பும் மொழி", "tamil": "தமிழ்", "correct": "திருத்து", "save": "சேமி",
           "saved": "சேமிக்கப்பட்டது.", "delete": "நீக்கு", "ask": "இதை அலுவலகத்தின் நினைவிலிருந்து நீக்கவா?",
           "yes": "ஆம், நீக்கு", "deleted": "நீக்கப்பட்டது. AI முகவருக்கு இனி இது தெரியாது", "history": "வரலாறு",
           "changed": "மாற்றப்பட்டது", "removed": "நீக்கப்பட்டது"},
    "en": {"ward": "Ward", "language": "Language they prefer", "tamil": "Tamil", "correct": "Correct", "save": "Save",
           "saved": "Saved.", "delete": "Delete", "ask": "Delete this from what the office remembers?",
           "yes": "Yes, delete it", "deleted": "Deleted. The AI agent no longer knows it", "history": "History",
           "changed": "Changed", "removed": "Deleted"},
}  # fmt: skip


def remember(api: Api, token: str, phone: str, text: str, **more: Any) -> None:
    response = api.request(
        "POST", "/api/mem0/memories", token, json={"infer": False, "user_id": phone, "text": text, **more}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("lang", ["ta", "en"])
def test_staff_correct_and_delete_what_is_remembered_and_the_history_names_them(
    new_page: Any, api: Api, admin_token: str, lang: str
) -> None:
    words = WORDS[lang]
    tenant, _, token = office(api, admin_token, new_page)
    email = f"staff-{tenant['tenant_id']}@example.in"
    invited = api.request("POST", "/api/users/invite", token, json={"email": email, "role": "staff"})
    assert invited.status_code == 201, invited.text
    page = new_page()
    accept_invitation(page, api, email, "Kavitha Raman")
    phone = unique_number()
    body = {"category": "water", "description": "No water since Monday", "location": "Ward 12", "caller_number": phone}
    created = api.request("POST", "/api/complaints", token, json=body)
    assert created.status_code == 201, created.text
    reference = created.json()["data"]["reference"]
    remember(api, token, phone, "Lakshmi", slot="name")
    remember(api, token, phone, "Ward 12", slot="ward")
    remember(api, token, phone, "ta", slot="language")
    remember(api, token, phone, "Runs a tea shop near the bus stand")
    in_language(page, lang)

    page.goto(f"/app/complaints/{reference}")
    page.get_by_test_id("caller-memory-link").click()

    expect(page).to_have_url(re.compile(rf"/app/complaints/{reference}/caller$"))
    ward = page.get_by_test_id("memory").filter(has=page.get_by_role("heading", name=words["ward"], exact=True))
    expect(ward.get_by_test_id("memory-text")).to_have_text("Ward 12")
    language = page.get_by_test_id("memory").filter(has=page.get_by_role("heading", name=words["language"]))
    expect(language.get_by_test_id("memory-text")).to_have_text(words["tamil"])
    expect(page.get_by_test_id("facts")).to_contain_text("Runs a tea shop near the bus stand")
    expect(ward.get_by_test_id("last-change")).to_contain_text("Office Admin")
    screenshot(page, f"caller-memory-{lang}")

    ward.locator("summary", has_text=words["correct"]).click()
    ward.get_by_role("textbox").fill("Ward 14")
    ward.get_by_role("button", name=words["save"]).click()

    expect(page.get_by_test_id("notice")).to_have_text(words["saved"])
    ward = page.get_by_test_id("memory").filter(has=page.get_by_role("heading", name=words["ward"], exact=True))
    expect(ward.get_by_test_id("memory-text")).to_have_text("Ward 14")
    expect(ward.get_by_test_id("last-change")).to_contain_text("Kavitha Raman")
    ward.locator("summary", has_text=words["history"]).click()
    changes = ward.get_by_test_id("change")
    expect(changes).to_have_count(2)
    expect(changes.last).to_contain_text(words["changed"])
    expect(changes.last).to_contain_text("Ward 12 → Ward 14")
    expect(changes.last.get_by_test_id("actor")).to_have_text("Kavitha Raman")
    expect(changes.first.get_by_test_id("actor")).to_have_text("Office Admin")

    fact = page.get_by_test_id("memory").filter(has_text="Runs a tea shop near the bus stand")
    fact.get_by_role("button", name=words["delete"]).click()
    confirm = page.get_by_test_id("delete-confirm")
    expect(confirm.get_by_role("heading")).to_have_text(words["ask"])
    expect(confirm).to_contain_text("Runs a tea shop near the bus stand")
    screenshot(page, f"caller-memory-delete-{lang}")
    confirm.get_by_role("button", name=words["yes"]).click()

    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text(words["deleted"])
    expect(notice).to_contain_text("Runs a tea shop near the bus stand")
    notice.locator("summary").click()
    expect(notice.get_by_test_id("change").last).to_contain_text(words["removed"])
    expect(notice.get_by_test_id("change").last.get_by_test_id("actor")).to_have_text("Kavitha Raman")
    expect(page.get_by_test_id("facts")).to_have_count(0)  # its one fact is gone
    screenshot(page, f"caller-memory-deleted-{lang}")
    national = phone.removeprefix("+91")
    assert not [url for url in page.requested if national in url], page.requested
