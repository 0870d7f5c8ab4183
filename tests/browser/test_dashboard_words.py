"""The office's pages in English, Hindi and Tamil read as words (categories, channels, months, roles,
counts), their charts' labels never run into each other, and what a person typed is isolated for
bidirectional text: in Chromium, through the pages."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import screenshot
from playwright.sync_api import expect
from test_pages import office

from support import Api

LANGS = ("en", "hi", "ta")
RAW = ("pensions_welfare", "ration_pds", "walk_in", "mla_admin", "— hours", "median")  # what the pages must never show

# Every pair of a chart's texts whose boxes intersect (each by its text), measured in the page.
OVERLAPS = """chart => {
  const boxes = [...chart.querySelectorAll("text")].map(t => [t.textContent, t.getBBox(), t.getCTM()])
    .map(([text, b, m]) => [text, {l: m.e + b.x * m.a, r: m.e + (b.x + b.width) * m.a,
                                   t: m.f + b.y * m.d, b: m.f + (b.y + b.height) * m.d}]);
  const hits = [];
  boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    if (p.l < q.r - 0.5 && q.l < p.r - 0.5 && p.t < q.b - 0.5 && q.t < p.b - 0.5) hits.push([a, b]);
  }));
  return hits;
}"""


def in_language(page: Any, lang: str) -> None:
    page.context.add_cookies([{"name": "mla_lang", "value": lang, "url": page.url}])


def log(api: Api, token: str, category: str, description: str, **more: Any) -> int:
    body = {"category": category, "description": description, "location": "Ward 5", "language": "ta", **more}
    created = api.request("POST", "/api/complaints", token, json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["data"]["reference"])


@pytest.mark.parametrize("lang", LANGS)
def test_the_overview_says_its_words_and_no_chart_label_overlaps_another(
    new_page: Any, api: Api, admin_token: str, lang: str
) -> None:
    _, page, token = office(api, admin_token, new_page)
    for category in ("pensions_welfare", "water", "ration_pds", "streetlights", "other"):
        log(api, token, category, "குடிநீர் குழாய் உடைந்தது")
    in_language(page, lang)
    page.goto("/app/overview")
    expect(page.locator("svg.chart")).to_have_count(4)
    for chart in page.locator("svg.chart").all():
        assert chart.evaluate(OVERLAPS) == [], chart.get_attribute("aria-label")
    text = page.locator("main").inner_text()
    assert not [raw for raw in RAW if raw in text]
    names = {"en": "Pensions / welfare", "hi": "पेंशन / कल्याण", "ta": "ஓய்வூதியம் / நலத்திட்டம்"}
    expect(page.locator("svg.chart text", has_text=names[lang])).to_have_count(1)
    months = {"en": "Dec|Jan|Nov", "hi": "दिस॰|जन॰|नव॰", "ta": "டிச.|ஜன.|நவ."}  # one of them, on any day
    days = page.locator("svg.chart").first.text_content() or ""
    assert any(month in days for month in months[lang].split("|")), days
    no_data = {"en": "No complaint was resolved", "hi": "कोई शिकायत हल नहीं हुई", "ta": "எந்தப் புகாரும் தீர்க்கப்படவில்லை"}
    expect(page.get_by_test_id("median")).to_contain_text(no_data[lang])
    screenshot(page, f"dashboard-overview-{lang}")

    page.goto("/app/complaints")
    counted = {"en": "5 complaints", "hi": "5 शिकायतें", "ta": "5 புகார்கள்"}
    expect(page.get_by_test_id("count")).to_have_text(counted[lang])
    expect(page.locator("table.list tbody")).to_contain_text(names[lang])


def test_one_complaint_is_counted_in_the_singular(new_page: Any, api: Api, admin_token: str) -> None:
    _, page, token = office(api, admin_token, new_page)
    log(api, token, "water", "No water since Monday")
    page.goto("/app/complaints")
    expect(page.get_by_test_id("count")).to_have_text("1 complaint")


@pytest.mark.parametrize("lang", LANGS)
def test_a_complaint_page_names_its_category_channel_and_events_in_words(
    new_page: Any, api: Api, admin_token: str, lang: str
) -> None:
    _, page, token = office(api, admin_token, new_page)
    reference = log(api, token, "pensions_welfare", "Pension not paid for three months")
    in_language(page, lang)
    page.goto(f"/app/complaints/{reference}")
    names = {"en": "Pensions / welfare", "hi": "पेंशन / कल्याण", "ta": "ஓய்வூதியம் / நலத்திட்டம்"}
    expect(page.locator("h1")).to_have_text(f"#{reference} · {names[lang]}")
    channel = page.get_by_test_id("channel").inner_text()
    assert channel and "_" not in channel and channel not in ("walk_in", "phone", "web", "manual")
    timeline = page.locator("ol.timeline").inner_text()
    assert "created" not in timeline and "user" not in timeline and "agent" not in timeline


def test_a_right_to_left_override_in_what_a_caller_said_stays_inside_its_own_text(
    new_page: Any, api: Api, admin_token: str
) -> None:
    _, page, token = office(api, admin_token, new_page)
    trick = "\u202eNo water since Monday"
    reference = log(api, token, "water", trick, location="\u202eWard 5", landmark="\u202eTemple")
    noted = api.request("POST", f"/api/complaints/{reference}/notes", token, json={"text": "\u202ecalled back"})
    assert noted.status_code == 201, noted.text
    isolated = """() => {
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const loose = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.data.includes("\\u202e")) continue;
        const holder = n.parentElement;
        if (!holder.closest("bdi, [dir=auto], title, option")) loose.push(holder.outerHTML);
      }
      return loose;
    }"""
    for path in ("/app/complaints", f"/app/complaints/{reference}"):
        page.goto(path)
        expect(page.locator("body")).to_contain_text("Monday")
        assert page.evaluate(isolated) == [], path
    # The landmark after the location, each in its own isolate: the override in the first does not
    # carry the second to its left.
    cell = page.locator("td", has=page.locator("bdi", has_text="Temple"))
    ward, temple = (box.bounding_box() for box in cell.locator("bdi").all()[:2])
    assert ward is not None and temple is not None and ward["x"] < temple["x"]
    # The list's next cells (location, assignee) stay where they belong: right of the description.
    page.goto("/app/complaints")
    row = page.locator("table.list tbody tr").first
    cells = [row.locator("td").nth(i).bounding_box() for i in (3, 4)]
    assert cells[0] is not None and cells[1] is not None and cells[0]["x"] < cells[1]["x"]
