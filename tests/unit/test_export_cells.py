"""The CSV export's cells: never a formula, phone numbers neither formulas nor numbers, India time to
the minute, words in the export's language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from mla_core.complaints import export, store
from mla_core.web.i18n import WORDS, translator


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_starts_like_a_formula_gets_a_leading_apostrophe(text: str) -> None:
    assert export.neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["", "Pothole = danger", "குடிநீர் வரவில்லை", "बिजली नहीं है", "'quoted", " =1"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert export.neutralised(text) == text


def test_an_indian_number_is_grouped_and_kept_from_being_a_formula() -> None:
    assert export.phone("+919876543210") == "'+91 98765 43210"
    assert export.phone("+14155550100") == "'+14155550100"  # another country's: as stored, still text
    assert export.phone(None) == export.phone("") == ""


def test_times_are_india_time_to_the_minute() -> None:
    assert export.minute(datetime(2026, 12, 2, 14, 26, 59, 123456, tzinfo=UTC)) == "2026-12-02 19:56"
    assert export.minute(datetime(2026, 12, 2, 20, 0, tzinfo=UTC)) == "2026-12-03 01:30"
    assert export.minute(None) == ""


def test_yes_no_are_words_in_the_export_s_language() -> None:
    assert [export.yes_no(v, translator("ta")) for v in (True, False, None)] == ["ஆம்", "இல்லை", ""]
    assert export.yes_no(True, translator("hi")) == "हाँ"


def test_an_unknown_language_exports_in_english() -> None:
    assert [export.export_language(c) for c in ("ta", "hi", "en", "fr", None)] == ["ta", "hi", "en", "en", "en"]


def test_every_word_the_export_writes_has_all_three_languages() -> None:
    keys = [*export.HEADER.values(), "csv_yes", "csv_no"]
    keys += [f"csv_p_{p}" for p in ("low", "normal", "high", "urgent")]
    keys += [f"csv_ch_{c}" for c in ("phone", "walk_in", "web", "manual")]
    keys += [f"csv_lang_{code}" for code in export.EXPORT_LANGUAGES]
    assert [k for k in keys if k not in WORDS or not all(WORDS[k])] == []


def row(**overrides: Any) -> dict[str, Any]:
    at = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
    base: dict[str, Any] = {
        "id": uuid.uuid4(), "reference": 1003, "status": "in_progress", "priority": "urgent",
        "category": "pensions_welfare", "description": "=HYPERLINK(\"http://evil\",\"click\")", "location": "Ward 4",
        "landmark": None, "caller_name": "-Ravi", "caller_number": "+919876543210", "callback_number": None,
        "language": "ta", "channel": "walk_in", "assigned_to": uuid.UUID(int=1), "sla_due_at": at,
        "supporter_count": 2, "duplicate_of": uuid.UUID(int=2), "transferred_to": None, "version": 3,
        "created_at": at, "updated_at": at, "acknowledged_at": None, "resolved_at": None, "closed_at": None,
        "overdue": False,
    }  # fmt: skip
    return {**base, **overrides}


LOOKUPS: store.ExportLookups = {
    "people": {str(uuid.UUID(int=1)): "Meena K"},
    "categories": {"pensions_welfare": {"en": "Pensions & welfare", "ta": "ஓய்வூதியம் & நலன்"}},
    "references": {str(uuid.UUID(int=2)): 998},
}


def test_a_row_is_written_in_words_with_names_and_references_for_ids() -> None:
    cells = dict(zip(export.HEADER, export.Cells("ta", translator("ta")).of(row(), LOOKUPS), strict=True))
    assert cells["reference"] == 1003 and cells["duplicate_of"] == 998 and cells["assigned_to"] == "Meena K"
    assert (cells["status"], cells["priority"], cells["channel"]) == ("நடவடிக்கையில்", "அவசரம்", "நேரில்")
    assert (cells["category"], cells["language"], cells["overdue"]) == ("ஓய்வூதியம் & நலன்", "தமிழ்", "இல்லை")
    assert cells["description"].startswith("'=HYPERLINK") and cells["caller_name"] == "'-Ravi"
    assert cells["caller_number"] == "'+91 98765 43210" and cells["callback_number"] == "" and cells["landmark"] == ""
    assert cells["created_at"] == "2026-12-02 10:00" and cells["resolved_at"] == ""


def test_a_category_without_the_language_s_name_falls_back_to_english_then_the_default_list_then_its_code() -> None:
    hindi = export.Cells("hi", translator("hi"))
    assert hindi.of(row(), LOOKUPS)[3] == "Pensions & welfare"
    assert hindi.of(row(category="roads"), LOOKUPS)[3] == "सड़क"  # the office renamed none: the default list's
    assert hindi.of(row(category="street_dogs"), LOOKUPS)[3] == "Street dogs"


def test_an_id_no_longer_known_is_left_blank_not_written_as_a_uuid() -> None:
    cells = export.Cells("en", translator("en")).of(row(assigned_to=uuid.uuid4(), duplicate_of=uuid.uuid4()), LOOKUPS)
    assert not any(isinstance(c, str) and len(c) == 36 and c.count("-") == 4 for c in cells)
