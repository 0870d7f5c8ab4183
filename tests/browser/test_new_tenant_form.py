"""The super admin's new-tenant form (issue 14, items 1 and 7; issue 15, item 10): the greeting language
chosen and kept by a refused form, the names in Tamil letters carried into the office's agent, the
state chosen from the list in the page's language, times said to be India's. In Chromium."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from test_dashboard_words import in_language
from test_pages import sign_in

from support import Api, Inspector, unique_number

MLA_TA, CONSTITUENCY_TA = "க. செல்வி", "மயிலாப்பூர்"


def signed_in_admin(new_page: Any, stack: Any) -> Any:
    page = new_page()
    sign_in(page, "/admin/panel/tenants", stack.env["SUPERADMIN_EMAIL"], stack.env["SUPERADMIN_PASSWORD"])
    return page


def test_an_english_greeting_with_tamil_second_and_tamil_names_survive_a_refused_form_and_reach_the_agent(
    new_page: Any, stack: Any, api: Api, admin_token: str
) -> None:
    page = signed_in_admin(new_page, stack)
    page.get_by_role("link", name="New tenant").first.click()
    constituency = f"Mylapore {unique_number()[-4:]}"
    page.fill("#mla_name", "K. Selvi")
    page.fill("#constituency", constituency)
    page.get_by_label("State").select_option(label="Tamil Nadu")
    page.select_option("#languages-first", "en")  # not the first one offered (Tamil)
    page.check("input[name=languages][value=ta]")
    page.fill("#phone_numbers", unique_number())
    page.get_by_label("MLA's name in Tamil letters").fill(MLA_TA)
    page.get_by_label("Constituency's name in Tamil letters").fill(CONSTITUENCY_TA)
    page.fill("#admin_email", "office-at-selvi")  # refused
    page.get_by_role("button", name="Create").click()

    expect(page.locator("#admin_email-error")).to_be_visible()  # the form again, as it was sent
    expect(page.locator("#languages-first")).to_have_value("en")
    boxes = page.locator("input[name=languages]")
    assert [boxes.nth(i).get_attribute("value") for i in range(boxes.count())][:2] == ["en", "ta"]
    expect(page.locator("input[name=languages][value=ta]")).to_be_checked()
    expect(page.locator("input[name=languages][value=hi]")).not_to_be_checked()
    expect(page.get_by_label("State")).to_have_value("Tamil Nadu")
    expect(page.get_by_label("MLA's name in Tamil letters")).to_have_value(MLA_TA)
    expect(page.get_by_label("Constituency's name in Tamil letters")).to_have_value(CONSTITUENCY_TA)

    page.fill("#admin_email", f"office-{constituency[-4:]}@selvi.example.in")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/admin/panel/tenants/[a-z0-9]{10}$"))
    expect(page.get_by_test_id("tenant-status")).to_have_attribute("data-status", "active", timeout=30_000)
    page.reload()
    expect(page.get_by_test_id("local-names")).to_contain_text(f"Tamil: {MLA_TA} · {CONSTITUENCY_TA}")

    tenant_id = page.url.rsplit("/", 1)[1]
    assert api.tenant(admin_token, tenant_id)["languages"] == ["en", "ta"]
    [(config,)] = Inspector(stack.env).sql("SELECT config FROM platform.agent_configs WHERE tenant_id = %s", tenant_id)
    assert config["languages"] == ["en", "ta"]
    assert (config["mla_name_local"], config["constituency_local"]) == ({"ta": MLA_TA}, {"ta": CONSTITUENCY_TA})


def test_the_state_is_chosen_from_the_31_in_the_pages_language_and_the_list_says_its_times_are_ist(
    new_page: Any, stack: Any
) -> None:
    page = signed_in_admin(new_page, stack)
    in_language(page, "hi")
    page.goto("/admin/panel/new")
    options = page.locator("#state option")
    expect(options).to_have_count(32)  # "choose" and the 31 states and union territories with an assembly
    expect(page.locator("#state option[value='Tamil Nadu']")).to_have_text("तमिलनाडु")
    in_language(page, "ta")
    page.reload()
    expect(page.locator("#state option[value='Puducherry']")).to_have_text("புதுச்சேரி")
    page.goto("/admin/panel/tenants")
    expect(page.locator("table.list thead")).to_contain_text("பதிவு (IST)")


def test_a_state_written_tamilnadu_is_refused_with_a_suggestion_in_the_clients_language(
    api: Api, admin_token: str
) -> None:
    body = {
        "mla_name": "K. Selvi",
        "constituency": "Mylapore",
        "state": "Tamilnadu",
        "languages": ["ta", "en"],
        "phone_numbers": [unique_number()],
        "admin_email": "office-tamilnadu@selvi.example.in",
    }
    for lang, words in (("en", "did you mean Tamil Nadu?"), ("ta", "நீங்கள் குறிப்பிட்டது Tamil Nadu ஆ?")):
        refused = api.request("POST", "/admin/tenants", admin_token, json=body, headers={"Accept-Language": lang})
        assert refused.status_code == 422, refused.text
        [detail] = refused.json()["error"]["details"]
        assert detail["field"] == "state" and detail["message"].endswith(words), detail
