"""The office's complaints as a CSV file that opens cleanly in Excel and LibreOffice: the list's filters
and order, every matching row, in words in the language chosen on export.

- UTF-8 with a byte order mark, so that Excel reads Tamil and Hindi as such (without it, Excel guesses
  the system's code page).
- Words, not codes: status, priority, category, channel and the caller's language in the export's
  language; the assignee by name, a duplicate by its original's reference; yes/no; times in India
  time to the minute (`2026-12-02 19:56`, which both spreadsheets read as a date and time).
- No cell is a formula: text starting with `=`, `+`, `-`, `@`, tab or CR gets a leading apostrophe
  (a caller can have `=HYPERLINK(…)` stored through the agent). A phone number is written
  `+91 98765 43210`: the spaces keep it from being read as a number (`9.19877E+11`, its leading
  zeros or + lost) and, as it starts with +, the same apostrophe keeps it from being a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, get_args

from mla_core.adapters import Services
from mla_core.agents.config import category_name
from mla_core.complaints import store
from mla_core.complaints.models import ComplaintFilters
from mla_core.complaints.store import ExportLookups

ExportLanguage = Literal["en", "hi", "ta"]
EXPORT_LANGUAGES: tuple[ExportLanguage, ...] = get_args(ExportLanguage)
Words = Callable[[str], str]  # an interface word's key → the word in the export's language (web.i18n)

BOM = "\ufeff"
IST = timezone(timedelta(hours=5, minutes=30), "IST")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The file's columns and the words that head them.
HEADER: dict[str, str] = {
    "reference": "csv_reference",
    "status": "status",
    "priority": "csv_priority",
    "category": "category",
    "description": "description",
    "location": "location",
    "landmark": "landmark",
    "caller_name": "caller_name",
    "caller_number": "caller_number",
    "callback_number": "csv_callback_number",
    "language": "language",
    "channel": "csv_channel",
    "assigned_to": "assignee",
    "sla_due_at": "csv_sla_due_at",
    "overdue": "overdue",
    "supporter_count": "csv_supporters",
    "duplicate_of": "duplicate_of",
    "transferred_to": "transferred_to",
    "created_at": "csv_created_at",
    "acknowledged_at": "csv_acknowledged_at",
    "resolved_at": "csv_resolved_at",
    "closed_at": "csv_closed_at",
    "updated_at": "csv_updated_at",
}
TIMES = ("sla_due_at", "created_at", "acknowledged_at", "resolved_at", "closed_at", "updated_at")
PHONES = ("caller_number", "callback_number")


# The cells' rules -------------------------------------------------------------------------------


def neutralised(text: str) -> str:
    """`text` as a spreadsheet shows it and never evaluates: a leading apostrophe before a formula's start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def phone(number: str | None) -> str:
    """An Indian number (+91 and ten digits) grouped as `+91 98765 43210`, another as stored; neither
    a number nor a formula in a spreadsheet."""
    if not number:
        return ""
    digits = number[3:]
    if number.startswith("+91") and len(digits) == 10 and digits.isascii() and digits.isdigit():
        number = f"+91 {digits[:5]} {digits[5:]}"
    return neutralised(number)


def minute(moment: datetime | None) -> str:
    """A time in India time to the minute, or nothing."""
    return moment.astimezone(IST).strftime("%Y-%m-%d %H:%M") if moment else ""


def yes_no(value: bool | None, t: Words) -> str:
    return "" if value is None else t("csv_yes" if value else "csv_no")


def export_language(code: str | None) -> ExportLanguage:
    """The export's language that `code` names, else English."""
    return next((lang for lang in EXPORT_LANGUAGES if lang == code), "en")


# The file ------------------------------------------------------------------------------------------


def export_rows(
    services: Services, tenant_id: str, filters: ComplaintFilters, lang: ExportLanguage, t: Words
) -> Iterator[str]:
    """The filtered list as CSV lines (the byte order mark and header first), streamed: memory stays flat
    however many.

    The query runs before this returns, so that a failure to run it (the database down) is an error
    answered before the file's first byte, not a file cut off after its header."""
    rows = _rows(services, tenant_id, filters, Cells(lang, t))
    first = next(rows, None)
    return _lines([t(key) for key in HEADER.values()], first, rows)


def _rows(services: Services, tenant_id: str, filters: ComplaintFilters, cells: Cells) -> Iterator[list[Any]]:
    with services.db.transaction() as conn:
        lookups = store.export_lookups(conn, tenant_id)
        for row in store.stream(conn, tenant_id, filters):
            yield cells.of(row, lookups)


class Cells:
    """A complaint's row as the file's cells, in one language."""

    def __init__(self, lang: ExportLanguage, t: Words) -> None:
        self.lang, self.t = lang, t

    def category(self, code: str, lookups: ExportLookups) -> str:
        return category_name(code, lookups["categories"].get(code), self.lang)

    def of(self, row: dict[str, Any], lookups: ExportLookups) -> list[Any]:
        t = self.t
        assignee, original = row["assigned_to"], row["duplicate_of"]
        words: dict[str, Any] = {
            "reference": row["reference"],
            "status": t(f"s_{row['status']}"),
            "priority": t(f"csv_p_{row['priority']}"),
            "category": self.category(row["category"], lookups),
            "language": t(f"csv_lang_{row['language']}") if row["language"] else "",
            "channel": t(f"csv_ch_{row['channel']}"),
            "assigned_to": lookups["people"].get(str(assignee), "") if assignee else "",
            "overdue": yes_no(row["overdue"], t),
            "supporter_count": row["supporter_count"],
            "duplicate_of": lookups["references"].get(str(original), "") if original else "",
        }
        for column in TIMES:
            words[column] = minute(row[column])
        for column in PHONES:
            words[column] = phone(row[column])
        cells = []
        for column in HEADER:
            value = words[column] if column in words else (row[column] or "")
            cells.append(neutralised(value) if isinstance(value, str) and column not in PHONES else value)
        return cells


def _lines(header: list[str], first: list[Any] | None, rest: Iterator[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield BOM + line(header)
    if first is None:
        return
    yield line(first)
    yield from map(line, rest)
