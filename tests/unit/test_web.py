"""The pages' building blocks: every interface word in three languages, safe redirects, chart geometry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mla_core import charts
from mla_core.web import STATIC_DIR, Site, _local
from mla_core.web.i18n import LANGUAGES, WORDS, translator

TEMPLATES = Path(STATIC_DIR).parent / "templates"
SITE = Site(prefix="/app", area="", nav=(), roles=("staff",), home="/app/complaints")


def test_every_word_a_template_asks_for_is_there_in_english_hindi_and_tamil() -> None:
    asked = {
        key
        for path in TEMPLATES.rglob("*.html")
        for key in re.findall(r"""\bt\(["']([a-z_]+)["']\)""", path.read_text())
    }
    statuses = {f"s_{s}" for s in ("new", "acknowledged", "assigned", "in_progress", "resolved", "closed")}
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
