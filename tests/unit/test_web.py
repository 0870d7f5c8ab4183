"""The pages' building blocks: every interface word in three languages, safe redirects, chart geometry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from mla_core.web import STATIC_DIR, Site, _local, charts
from mla_core.web.i18n import LANGUAGES, WORDS, translator

TEMPLATES = Path(STATIC_DIR).parent / "templates"
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
        (colour["ink"], colour["bg"]), (colour["ink"], colour["card"]), (colour["muted"], colour["card"]),
        (colour["muted"], colour["bg"]), (colour["brand-ink"], colour["brand"]), (colour["brand"], colour["card"]),
        (colour["bad"], colour["card"]), (colour["ink"], "#e8edf2"),
    ]  # fmt: skip
    pairs += [(colour[tone], background) for background, tone in re.findall(
        r"background: (#[0-9a-f]{6}); color: var\(--([a-z]+)\)", css)]  # fmt: skip
    assert len(pairs) >= 11
    assert min(contrast(fg, bg) for fg, bg in pairs) >= 4.5, sorted((round(contrast(f, b), 2), f, b) for f, b in pairs)
