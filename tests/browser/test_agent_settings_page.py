"""The agent settings page as an office admin uses it (issue 14, item 7; issue 15, items 9 and 10): the
MLA's and constituency's names in Tamil letters, a pause that is asked first and the calls it missed,
a second agent added from the page. In Chromium, through the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_support import screenshot
from playwright.sync_api import expect
from test_dashboard_words import in_language
from test_pages import office, simulated_call

from support import Api, Inspector, unique_number

MLA_TA, CONSTITUENCY_TA = "க. செல்வி", "மயிலாப்பூர்"


def agents(api: Api, token: str) -> list[dict[str, Any]]:
    listed = api.request("GET", "/api/agents", token)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["data"])


def stored_config(stack: Any, agent_id: str) -> dict[str, Any]:
    [(config,)] = Inspector(stack.env).sql("SELECT config FROM platform.agent_configs WHERE agent_id = %s", agent_id)
    return dict(config)


def test_tamil_names_typed_on_the_page_are_stored_kept_by_other_saves_and_a_blank_says_english_again(
    new_page: Any, api: Api, admin_token: str, stack: Any
) -> None:
    _, page, token = office(api, admin_token, new_page)
    page.get_by_role("link", name="Agent settings").click()
    expect(page.get_by_label("Hindi letters")).to_have_count(0)  # the office speaks Tamil and English only
    page.get_by_label("MLA's name in Tamil letters").fill(MLA_TA)
    page.get_by_label("Constituency's name in Tamil letters").fill(CONSTITUENCY_TA)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("saved")).to_be_visible()
    expect(page.get_by_label("MLA's name in Tamil letters")).to_have_value(MLA_TA)
    [agent] = agents(api, token)
    config = stored_config(stack, agent["agent_id"])
    assert config["mla_name_local"] == {"ta": MLA_TA} and config["constituency_local"] == {"ta": CONSTITUENCY_TA}

    page.fill("textarea[name=greeting_ta]", "வணக்கம்! மயிலாப்பூர் அலுவலகம்.")  # a save that edits only a greeting
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    config = stored_config(stack, agent["agent_id"])
    assert config["mla_name_local"] == {"ta": MLA_TA} and config["constituency_local"] == {"ta": CONSTITUENCY_TA}

    page.get_by_label("MLA's name in Tamil letters").fill("")  # blank: the English spelling again
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    expect(page.get_by_label("MLA's name in Tamil letters")).to_have_value("")
    expect(page.get_by_text("English spelling (K. Selvi)")).to_be_visible()
    config = stored_config(stack, agent["agent_id"])
    assert config["mla_name_local"] == {} and config["constituency_local"] == {"ta": CONSTITUENCY_TA}

    in_language(page, "ta")
    page.reload()
    expect(page.get_by_label("தமிழ் எழுத்தில் தொகுதியின் பெயர்")).to_have_value(CONSTITUENCY_TA)
    in_language(page, "hi")
    page.reload()
    expect(page.get_by_label("तमिल लिपि में निर्वाचन क्षेत्र का नाम")).to_have_value(CONSTITUENCY_TA)


def test_a_name_an_sms_cannot_carry_is_refused_in_the_pages_language_and_nothing_changes(
    new_page: Any, api: Api, admin_token: str, stack: Any
) -> None:
    _, page, token = office(api, admin_token, new_page)
    page.get_by_role("link", name="Agent settings").click()
    in_language(page, "ta")
    page.reload()
    page.get_by_label("தமிழ் எழுத்தில் சட்டமன்ற உறுப்பினர் பெயர்").fill("செல்வி https://x.example")
    page.get_by_role("button", name="சேமி").click()
    expect(page.get_by_role("alert")).to_contain_text("SMS")
    expect(page.get_by_role("alert")).not_to_contain_text("mla_name_local")
    [agent] = agents(api, token)
    assert stored_config(stack, agent["agent_id"])["mla_name_local"] == {}


def paused_call(stack: Any, tmp_path: Path, to: str, caller: str) -> None:
    """A call through the real agent to a paused office: it hears the pause and hangs up."""
    simulated_call(stack, tmp_path, to, caller, exits=2)  # the simulator's "not answered"


def test_pausing_asks_first_says_what_callers_hear_and_lists_the_calls_it_missed(
    new_page: Any, api: Api, admin_token: str, stack: Any, tmp_path: Path
) -> None:
    tenant, page, token = office(api, admin_token, new_page, constituency_local={"ta": CONSTITUENCY_TA})
    page.get_by_role("link", name="Agent settings").click()
    expect(page.get_by_test_id("missed-count")).to_have_text("No call was missed while paused.")

    page.get_by_role("button", name="Pause").click()  # asked first: nothing paused yet
    expect(page.get_by_test_id("paused-message")).to_have_text(
        f"வணக்கம். {CONSTITUENCY_TA} அலுவலகம் இப்போது அழைப்புகளை ஏற்கவில்லை. தயவுசெய்து பின்னர் அழைக்கவும்."
    )
    expect(page.get_by_test_id("pause-effect")).to_contain_text(
        f"nobody takes complaints on {tenant['phone_numbers'][0]}"
    )
    expect(page.get_by_test_id("pause-effect")).to_contain_text("in Tamil")
    screenshot(page, "dashboard-agent-pause")
    assert [a["status"] for a in agents(api, token)] == ["active"]
    page.get_by_role("link", name="No, keep taking calls").click()
    expect(page.get_by_test_id("agent-status-1")).to_have_text("Taking calls")

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Pause the line").click()
    expect(page.get_by_test_id("agent-status-1")).to_have_text("Paused")
    assert [a["status"] for a in agents(api, token)] == ["paused"]

    caller = unique_number()
    paused_call(stack, tmp_path, tenant["phone_numbers"][0], caller)
    page.reload()
    expect(page.get_by_test_id("missed-count")).to_have_text("1 call missed")
    row = page.get_by_test_id("missed-list").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name=caller)).to_have_attribute("href", f"tel:{caller}")
    expect(row).to_contain_text(tenant["phone_numbers"][0])
    in_language(page, "ta")
    page.reload()
    expect(page.get_by_test_id("missed-count")).to_have_text("1 அழைப்பு தவறியது")

    page.get_by_role("button", name="மீண்டும் தொடங்கு").click()  # resuming takes one click
    expect(page.get_by_test_id("agent-status-1")).to_have_text("அழைப்புகளை ஏற்கிறது")


def test_a_second_agent_is_added_from_the_page_for_numbers_of_its_own(
    new_page: Any, api: Api, admin_token: str
) -> None:
    tenant, page, token = office(api, admin_token, new_page)
    page.get_by_role("link", name="Agent settings").click()
    form = page.get_by_test_id("add-agent")
    form.get_by_label("Name for the new agent").fill("Helpline")
    form.get_by_label("Phone numbers").fill(tenant["phone_numbers"][0])  # the main agent's number
    form.get_by_role("button", name="Add an agent").click()
    expect(page.get_by_role("alert")).to_contain_text("already answered by another agent")
    expect(page.get_by_test_id("add-agent").get_by_label("Name for the new agent")).to_have_value("Helpline")
    assert len(agents(api, token)) == 1

    number = unique_number()
    page.get_by_test_id("add-agent").get_by_label("Phone numbers").fill(number)
    page.get_by_test_id("add-agent").get_by_role("button", name="Add an agent").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    expect(page.get_by_role("heading", name="Helpline")).to_be_visible()
    main, added = agents(api, token)
    assert (added["name"], added["phone_numbers"], added["languages"]) == ("Helpline", [number], main["languages"])
