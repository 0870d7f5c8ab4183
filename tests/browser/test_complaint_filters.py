"""The complaint list's filters in Chromium (issue 15, items 6 and 7): a filter the page does not
understand is named next to its box in the page's language and lists nothing, with no CSV offered;
the search finds a word by its start and spelling, and its box holds no more than the API takes."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import screenshot
from playwright.sync_api import expect
from test_dashboard_words import LANGS, in_language, log
from test_pages import office

from mla_core.complaints.models import QUERY_LIMIT
from mla_core.web.i18n import translator
from support import Api


@pytest.mark.parametrize("lang", LANGS)
def test_a_filter_not_understood_is_named_next_to_it_and_nothing_is_listed_or_offered_as_csv(
    new_page: Any, api: Api, admin_token: str, lang: str
) -> None:
    t = translator(lang)
    _, page, token = office(api, admin_token, new_page)
    pothole = log(api, token, "roads", "Potholes near the bus stand")
    log(api, token, "water", "ஓய்வூதியம் வரவில்லை")
    in_language(page, lang)

    page.goto("/app/complaints?status=sleeping&q=pothole")
    expect(page.get_by_test_id("filters-not-understood")).to_contain_text(t("filters_not_understood"))
    expect(page.locator("#status")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#status-error")).to_be_visible()
    expect(page.locator("#q")).to_have_value("pothole")  # what was understood stays
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody")).to_contain_text(t("filters_not_understood"))
    expect(page.get_by_role("link", name=t("export_csv"))).to_have_count(0)
    screenshot(page, f"complaints-filter-not-understood-{lang}")

    page.select_option("#status", "new")
    page.get_by_role("button", name=t("filter")).click()
    expect(page.get_by_test_id("filters-not-understood")).to_have_count(0)
    expect(page.locator("#status-error")).to_have_count(0)
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody")).to_contain_text(f"#{pothole}")
    expect(page.get_by_role("link", name=t("export_csv"))).to_have_count(1)


def test_the_search_box_finds_a_word_by_its_start_and_takes_what_the_api_takes(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page, token = office(api, admin_token, new_page)
    pension = log(api, token, "pensions_welfare", "ஓய்வூதியம் மூன்று மாதமாக வரவில்லை")
    handpump = log(api, token, "water", "हैंडपंप खराब है", language="hi")
    page.goto("/app/complaints")
    expect(page.locator("#q")).to_have_attribute("maxlength", str(QUERY_LIMIT))
    for typed, reference in (("ஓய்வூதிய", pension), ("हैंडपम्प", handpump)):
        page.fill("#q", typed)
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("table.list tbody tr")).to_have_count(1)
        expect(page.locator("table.list tbody")).to_contain_text(f"#{reference}")
