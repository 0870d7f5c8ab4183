"""Issue 14, items 1 and 8: the agent settings keep the greeting language first and say so."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from test_pages import office

from support import Api


def test_a_save_that_edits_only_the_tamil_greeting_keeps_tamil_first(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    page.get_by_role("link", name="Agent settings").click()
    expect(page.get_by_test_id("greets-in-1")).to_contain_text("தமிழ்")
    expect(page.get_by_label("Agent's name")).to_have_count(1)
    page.fill("textarea[name=greeting_ta]", "வணக்கம்! புதிய வரவேற்பு.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("saved")).to_have_text("Saved")
    [agent] = api.request("GET", "/api/agents", token).json()["data"]
    assert agent["languages"] == ["ta", "en"]
    assert agent["greetings"]["ta"].startswith("வணக்கம்! புதிய வரவேற்பு.")


def test_choosing_english_as_the_greeting_language_puts_it_first(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    page.get_by_role("link", name="Agent settings").click()
    page.select_option("#languages-1-first", "en")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    [agent] = api.request("GET", "/api/agents", token).json()["data"]
    assert agent["languages"] == ["en", "ta"]
    expect(page.get_by_test_id("greets-in-1")).to_contain_text("English")
