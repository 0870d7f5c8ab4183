"""The pages' building blocks: every interface word in three languages, safe redirects, chart geometry,
forms read into models, the templates' macros, and each site's static files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.datastructures import FormData
from starlette.testclient import TestClient

from mla_core.web import charts
from mla_core.web.forms import NumbersBox, parse_form
from mla_core.web.i18n import LANGUAGES, WORDS, translator
from mla_core.web.rendering import TEMPLATES_DIR as TEMPLATES
from mla_core.web.site import STATIC_DIR, Site, _local

SITE = Site(prefix="/app", area="", nav=(), roles=("staff",), home="/app/complaints")


def test_every_word_a_template_asks_for_is_there_in_english_hindi_and_tamil() -> None:
    asked = {
        key
        for path in TEMPLATES.rglob("*.html")
        for key in re.findall(r"""\bt\(["']([a-z_]+)["']\)""", path.read_text())
    }
    from mla_core.complaints import lifecycle
    from mla_core.tenants.registry import StepStatus, TenantStatus

    statuses = {f"s_{s}" for s in lifecycle.STATUSES} | {f"ts_{s}" for s in get_args(TenantStatus)}
    statuses |= {f"ss_{s}" for s in get_args(StepStatus)}
    assert asked and not (asked | statuses) - WORDS.keys()
    assert all(all(words) and len(words) == len(LANGUAGES) for words in WORDS.values())
    assert translator("ta")("complaints") == "புகார்கள்" and translator("xx")("complaints") == "Complaints"


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/app/complaints?status=new", "/app/complaints?status=new"),
        ("//evil.example/app/", "/app/complaints"),
        ("https://evil.example/app/x", "/app/complaints"),
        ("/admin/panel/tenants", "/app/complaints"),  # another site's pages are not this one's
        ("", "/app/complaints"),
    ],
)
def test_only_our_own_pages_are_redirect_targets(asked: str, goes_to: str) -> None:
    assert _local(asked, SITE) == goes_to


def test_bars_scale_to_the_peak_and_leave_room_for_labels() -> None:
    chart = charts.bars([("a", 0), ("b", 5), ("c", 10)])
    zero, half, full = chart.bars
    assert zero.height == 0 and full.height == 2 * half.height
    assert full.y == charts.TOP and full.y + full.height == charts.HEIGHT - charts.AXIS
    assert charts.bars([]).bars == [] and charts.bars([("x", 0)]).bars[0].height == 0


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_colours_meet_wcag_aa_contrast() -> None:
    """Every text colour of the stylesheet on the backgrounds it is used on: at least 4.5:1."""
    css = (Path(STATIC_DIR) / "app.css").read_text()
    colour = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{3,6})", css))
    colour = {
        name: value if len(value) == 7 else "#" + "".join(c * 2 for c in value[1:]) for name, value in colour.items()
    }
    pairs = [
        (colour["ink"], colour["bg"]),
        (colour["ink"], colour["card"]),
        (colour["muted"], colour["card"]),
        (colour["muted"], colour["bg"]),
        (colour["brand-ink"], colour["brand"]),
        (colour["brand"], colour["card"]),
        (colour["bad"], colour["card"]),
        (colour["ink"], "#e8edf2"),
    ]
    badges = re.findall(r"background: (#[0-9a-f]{6}); color: var\(--([a-z]+)\)", css)
    pairs += [(colour[tone], background) for background, tone in badges]
    assert len(pairs) >= 11
    assert min(contrast(fg, bg) for fg, bg in pairs) >= 4.5, sorted((round(contrast(f, b), 2), f, b) for f, b in pairs)


class Signup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str
    full_name: str | None = None
    languages: list[str] | None = None
    phone_numbers: NumbersBox = []


def test_a_form_is_read_into_a_model_blank_fields_left_out_and_checkboxes_as_lists() -> None:
    form = FormData(
        [
            ("csrf", "token"),
            ("email", "a@b.in"),
            ("full_name", "  "),
            ("languages", "ta"),
            ("languages", "en"),
            ("phone_numbers", "+914440001234, +914440001235\n+914440001236"),
            ("unknown", "x"),
        ]
    )
    body = parse_form(form, Signup)
    assert body == Signup(
        email="a@b.in", languages=["ta", "en"], phone_numbers=["+914440001234", "+914440001235", "+914440001236"]
    )
    with pytest.raises(ValidationError) as refused:
        parse_form(FormData([("email", ""), ("full_name", "Selvi")]), Signup)
    assert [error["loc"] for error in refused.value.errors()] == [("email",)]


def test_a_form_model_that_allows_extra_fields_gets_the_others_but_not_the_csrf_token() -> None:
    class Boxes(BaseModel):
        model_config = ConfigDict(extra="allow")
        name: str | None = None

    form = FormData([("csrf", "token"), ("name", "Main"), ("greeting_ta", "வணக்கம்"), ("voice_ta", "")])
    assert parse_form(form, Boxes).model_extra == {"greeting_ta": "வணக்கம்"}


def test_every_form_that_posts_carries_the_csrf_token_and_no_template_builds_a_dict() -> None:
    pages = {path.relative_to(TEMPLATES): path.read_text() for path in TEMPLATES.rglob("*.html")}
    forms = [form for text in pages.values() for form in re.findall(r'<form method="post".*?</form>', text, re.S)]
    assert len(forms) >= 14 and all("{{ ui.csrf(csrf) }}" in form for form in forms)
    assert not [name for name, text in pages.items() if re.search(r"\{%-?\s*set[^%]*=\s*\{|\.update\(\{", text)]


def test_a_field_ties_its_error_and_hint_to_its_control() -> None:
    from mla_core.web.rendering import templates

    ui = templates().env.globals["ui"]
    html = str(ui.field("phone", "Phone", "044", type="tel", required=True, error="must be E.164", hint="+91…"))
    assert html == (
        '<label for="phone">Phone</label><p class="muted" id="phone-hint">+91…</p>'
        '<input id="phone" name="phone" type="tel" required aria-invalid="true"'
        ' aria-describedby="phone-hint phone-error" value="044"><p class="error" id="phone-error">must be E.164</p>'
    )
    assert str(ui.badge("active", "<Active>")) == '<span class="badge active">&lt;Active&gt;</span>'


def test_the_test_calls_scripts_ship_with_the_dashboard_not_with_the_layer() -> None:
    from local_stack.template import function

    function("AdminFunction").import_module()
    function("DashboardFunction").import_module()
    from admin_panel import panel
    from dashboard_pages import pages

    client = TestClient(pages)
    for path in ("/static/test_call.js", "/static/vendor/livekit-client-2.23.0.umd.js", "/static/app.css"):
        assert client.get(path).status_code == 200, path
    assert TestClient(panel).get("/static/test_call.js").status_code == 404
    assert sorted(p.name for p in STATIC_DIR.rglob("*.*")) == ["app.css", "htmx-2.0.11.min.js", "live.js"]


@pytest.mark.parametrize(
    ("lang", "capped", "expected"),
    [
        ("en", False, "1 complaint"),
        ("ta", True, "10,000 அல்லது அதற்கு மேற்பட்ட புகார்கள்"),
        ("hi", True, "10,000 या अधिक शिकायतें"),
    ],
)
def test_a_count_the_list_stops_at_says_or_more_in_the_readers_words(lang: str, capped: bool, expected: str) -> None:
    from mla_core.web.i18n import translator
    from mla_core.web.rendering import counter, templates

    count = templates().env.get_template("dashboard/_count.html")
    html = count.render(t=translator(lang), counted=counter(lang), count=10_000 if capped else 1, capped=capped)

    assert f">{expected}</span>" in html
