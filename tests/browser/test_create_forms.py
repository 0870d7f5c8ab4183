"""Create forms an office cannot get wrong (issue 15, items 1, 3 and 10): numbers as people write them,
one record and one SMS however often a form is sent (Back then Save, a double click), and a walk-in
form that says its rules before it is sent."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from test_pages import office

from support import Api


def _sms_to(api: Api, number: str) -> list[dict[str, Any]]:
    return [m for m in api.outbox() if m["channel"] == "sms" and m["to"] == number]


def _walk_in(page: Any, number: str, description: str) -> None:
    page.goto("/app/complaints/new")
    page.select_option("#category", "roads")
    page.fill("#location", "Ward 7")
    page.fill("#caller_number", number)
    page.fill("#description", description)


def test_back_then_save_after_a_walk_in_complaint_makes_one_complaint_and_one_sms(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page, token = office(api, admin_token, new_page)
    _walk_in(page, "98400 12345", "Street light broken near the school")
    form_address = page.url  # the form's one-time key is in its address
    kept = page.context.new_page()  # the same form as a restored page shows it (bfcache), filled in
    kept.goto(form_address)
    kept.select_option("#category", "roads")
    kept.fill("#location", "Ward 7")
    kept.fill("#description", "Street light broken near the school, again")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/app/complaints/\d+$"))
    first = page.url

    page.go_back()  # a page fetched again says the form was saved, and offers no Save
    expect(page.get_by_test_id("already-saved")).to_contain_text("already saved")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    kept.get_by_role("button", name="Save").click()  # a restored page's Save
    expect(kept).to_have_url(first)  # lands on the first's page

    page.get_by_role("link", name="Open that complaint").click()
    expect(page).to_have_url(first)
    complaints = api.request("GET", "/api/complaints", token).json()["data"]["items"]
    assert len(complaints) == 1 and complaints[0]["caller_number"] == "+919840012345"
    assert len(_sms_to(api, "+919840012345")) == 1
    page.go_back()
    page.get_by_role("link", name="Type another complaint").click()
    expect(page.locator("#description")).to_have_value("")  # a new form, under a new key
    assert page.url != form_address


def test_a_double_click_on_save_makes_one_complaint(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    _walk_in(page, "09840012346", "Water pipe leaking on the main road")
    page.get_by_role("button", name="Save").dblclick()
    expect(page).to_have_url(re.compile(r"/app/complaints/\d+$"))
    page.reload()
    complaints = api.request("GET", "/api/complaints", token).json()["data"]["items"]
    assert len(complaints) == 1 and complaints[0]["caller_number"] == "+919840012346"
    assert len(_sms_to(api, "+919840012346")) == 1


def test_the_walk_in_form_says_its_rules_before_it_is_sent_in_the_pages_language(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page, _ = office(api, admin_token, new_page)
    page.goto("/app/complaints/new")
    page.get_by_role("link", name="हिन्दी").click()
    expect(page.locator("#category")).to_have_value("")  # nothing chosen for the office
    expect(page.locator("#category option:checked")).to_have_text("चुनें…")
    expect(page.locator("#description")).to_have_attribute("maxlength", "1000")
    expect(page.locator("#description-hint")).to_have_text("अधिकतम 1,000 अक्षर।")
    expect(page.locator("#description-count")).to_have_text("0 / 1,000")
    page.fill("#description", "सड़क पर गड्ढा है")
    expect(page.locator("#description-count")).to_have_text("16 / 1,000")

    page.fill("#location", "वार्ड 7")
    page.fill("#caller_number", "50000 12345")
    page.locator("form[action$='/complaints/new']").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="सहेजें").click()  # as a browser that does not check the form first
    expect(page.locator("#category-error")).to_have_text("एक श्रेणी चुनें।")
    expect(page.locator("#caller_number-error")).to_contain_text("भारतीय फ़ोन नंबर लिखें")
    expect(page.locator("#caller_number-error")).to_contain_text("98400 12345")
    expect(page.locator("#description")).to_have_value("सड़क पर गड्ढा है")  # what was typed stays

    page.select_option("#category", "roads")
    page.fill("#caller_number", "044-2345 6789")
    page.get_by_role("button", name="सहेजें").click()
    expect(page).to_have_url(re.compile(r"/app/complaints/\d+$"))


def test_a_double_click_on_invite_adds_one_member_and_sends_one_email(
    new_page: Any, api: Api, admin_token: str
) -> None:
    tenant, page, _ = office(api, admin_token, new_page)
    email = f"twice-{tenant['tenant_id']}@example.in"
    page.goto("/app/team")
    page.fill("#invite_email", email)
    page.get_by_role("button", name="Invite").dblclick()

    expect(page.locator("table.list")).to_contain_text(email)
    expect(page.locator("table.list tr", has_text=email)).to_have_count(1)
    assert len([m for m in api.outbox() if m.get("to") == email]) == 1
    assert "already" not in page.locator("main").inner_text()
